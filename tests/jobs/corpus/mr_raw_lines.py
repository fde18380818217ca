"""mapper_raw: one map task per input file, reading the file itself."""
import gzip

from mapfold.jobs import MRJob, MRStep


class MRRawLines(MRJob):
    def steps(self):
        return [MRStep(mapper_raw=self.count_file, reducer=self.total)]

    def count_file(self, input_path, input_uri):
        opener = gzip.open if input_path.endswith(".gz") else open
        with opener(input_path, "rb") as f:
            lines = f.read().splitlines()
        yield "lines", len(lines)
        yield "bytes", sum(len(line) for line in lines)

    def total(self, key, values):
        yield key, sum(values)


if __name__ == "__main__":
    MRRawLines.run()
