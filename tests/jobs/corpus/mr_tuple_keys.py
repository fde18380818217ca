"""Tuple keys arrive at the reducer as lists (JSON's round trip), as in mrjob."""
from mapfold.jobs import MRJob


class MRTupleKeys(MRJob):
    def mapper(self, _, line):
        for word in line.split():
            yield (word[:1], len(word)), word

    def reducer(self, key, words):
        yield [type(key).__name__, key], sorted(words)


if __name__ == "__main__":
    MRTupleKeys.run()
