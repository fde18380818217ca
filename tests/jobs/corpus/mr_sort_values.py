"""SORT_VALUES: each reducer sees its values sorted; the output lists them."""
from mapfold.jobs import MRJob


class MRSortValues(MRJob):
    SORT_VALUES = True

    def mapper(self, _, line):
        for word in line.split():
            yield word[:1].lower(), word

    def reducer(self, letter, words):
        yield letter, list(words)


if __name__ == "__main__":
    MRSortValues.run()
