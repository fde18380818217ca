"""Shell commands as substeps, in all the places mrjob allows them: ``mapper_cmd``, ``combiner_cmd``,
``reducer_cmd``, ``mapper_pre_filter`` and ``reducer_pre_filter`` (mrjob's documentation, "Shell commands
as steps"). Run on mrjob's local runner: its inline runner refuses commands."""
from mapfold.jobs import MRJob, MRStep, RawProtocol


class MRShellSubsteps(MRJob):
    # the first step's mapper is a command, so its reducer is the first substep this script runs:
    # it reads INPUT_PROTOCOL, here the command's key<TAB>value lines
    INPUT_PROTOCOL = RawProtocol

    def steps(self):
        return [
            MRStep(mapper_cmd="cut -f 1", reducer=self.count),
            MRStep(mapper=self.by_count, reducer_pre_filter="LC_ALL=C sort", reducer=self.fields),
            MRStep(mapper_pre_filter="grep -v '^1[[:space:]]'", combiner_cmd="cat", reducer_cmd="cut -f 2"),
        ]

    def count(self, field, nones):
        yield field, sum(1 for _ in nones)

    def by_count(self, field, count):
        self.increment_counter("fields", "seen")
        yield count, field

    def fields(self, count, fields):
        yield count, list(fields)  # sorted by the pre-filter


if __name__ == "__main__":
    MRShellSubsteps.run()
