"""TextValueProtocol in and out, RawValueProtocol between: values only, all text."""
from mapfold.jobs import MRJob, MRStep, RawValueProtocol, TextValueProtocol


class MRTextValues(MRJob):
    INPUT_PROTOCOL = TextValueProtocol
    INTERNAL_PROTOCOL = RawValueProtocol
    OUTPUT_PROTOCOL = TextValueProtocol

    def steps(self):
        return [MRStep(mapper=self.shout), MRStep(mapper=self.mark)]

    def shout(self, _, line):
        yield None, line.upper()

    def mark(self, _, line):
        yield None, "> " + line


if __name__ == "__main__":
    MRTextValues.run()
