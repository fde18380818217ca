"""A map-only job: tuple keys, None keys, nested values and non-ASCII text, written by the mapper."""
from mapfold.jobs import MRJob


class MRMapOnly(MRJob):
    def mapper(self, _, line):
        words = line.split()
        yield (len(words), line[:3]), {"words": words, "first": words[0] if words else None}
        if not words:
            yield None, [None, 1.5, "é"]


if __name__ == "__main__":
    MRMapOnly.run()
