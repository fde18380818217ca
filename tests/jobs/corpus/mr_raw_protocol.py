"""RawProtocol in (key<TAB>value lines), TextProtocol between, StandardJSONValueProtocol out."""
from mapfold.jobs import MRJob, RawProtocol, StandardJSONValueProtocol, TextProtocol


class MRRawProtocol(MRJob):
    INPUT_PROTOCOL = RawProtocol
    INTERNAL_PROTOCOL = TextProtocol
    OUTPUT_PROTOCOL = StandardJSONValueProtocol

    def mapper(self, key, value):
        yield key.upper(), value if value is not None else "-"

    def reducer(self, key, values):
        yield None, {"key": key, "values": sorted(values)}


if __name__ == "__main__":
    MRRawProtocol.run()
