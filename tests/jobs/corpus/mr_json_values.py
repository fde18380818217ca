"""JSONValueProtocol in, StandardJSONProtocol between, PickleValueProtocol out."""
from mapfold.jobs import JSONValueProtocol, MRJob, PickleValueProtocol, StandardJSONProtocol


class MRJsonValues(MRJob):
    INPUT_PROTOCOL = JSONValueProtocol
    INTERNAL_PROTOCOL = StandardJSONProtocol
    OUTPUT_PROTOCOL = PickleValueProtocol

    def mapper(self, _, record):
        yield record["user"], record["bytes"]

    def reducer(self, user, sizes):
        yield None, (user, sum(sizes))


if __name__ == "__main__":
    MRJsonValues.run()
