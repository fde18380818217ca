"""A pre-filter in front of a Python mapper, a command as the combiner's filter (mrjob's documentation,
"Filtering task input with shell commands": only lines with "kitty" reach the mapper)."""
from mapfold.jobs import MRJob, MRStep


class MRKittyPreFilter(MRJob):
    def steps(self):
        return [MRStep(mapper_pre_filter="grep kitty", mapper=self.words,
                       combiner_pre_filter="grep -v '^\"meow\"'", combiner=self.total,
                       reducer=self.total)]

    def words(self, _, line):
        for word in line.split():
            yield word, 1

    def total(self, word, counts):
        yield word, sum(counts)


if __name__ == "__main__":
    MRKittyPreFilter.run()
