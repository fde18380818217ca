"""PickleProtocol between the steps (sets and tuples survive), ReprProtocol out."""
from mapfold.jobs import MRJob, MRStep, PickleProtocol, ReprProtocol


class MRPickleRepr(MRJob):
    INTERNAL_PROTOCOL = PickleProtocol
    OUTPUT_PROTOCOL = ReprProtocol

    def steps(self):
        return [MRStep(mapper=self.letters, reducer=self.collect), MRStep(reducer=self.describe)]

    def letters(self, _, line):
        for word in line.split():
            yield (word[:1], len(word) > 3), frozenset(word)

    def collect(self, key, sets):
        merged = set()
        for letters in sets:
            merged |= letters
        yield key[0], (key[1], sorted(merged))

    def describe(self, letter, pairs):
        yield letter, sorted(pairs)


if __name__ == "__main__":
    MRPickleRepr.run()
