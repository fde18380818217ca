"""BytesValueProtocol in, ReprValueProtocol between two map-only steps, BytesProtocol out."""
from mapfold.jobs import BytesProtocol, BytesValueProtocol, MRJob, MRStep, ReprValueProtocol


class MRBytes(MRJob):
    INPUT_PROTOCOL = BytesValueProtocol
    INTERNAL_PROTOCOL = ReprValueProtocol
    OUTPUT_PROTOCOL = BytesProtocol

    def steps(self):
        return [MRStep(mapper=self.sizes), MRStep(mapper=self.show)]

    def sizes(self, _, line):
        yield "dropped: a value protocol keeps no key", (len(line), line[:2])

    def show(self, key, value):
        yield b"%d" % value[0] if key is None else b"key?", value[1]


if __name__ == "__main__":
    MRBytes.run()
