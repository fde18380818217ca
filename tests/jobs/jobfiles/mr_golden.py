"""A job whose -r hadoop commands use every part of mrjob's streaming command line (tests/jobs/test_hadoop.py)."""
from mapfold.jobs import MRJob, MRStep


class MRGolden(MRJob):
    SORT_VALUES = True
    JOBCONF = {"mapreduce.job.maps": 4, "my.flag": True}

    def configure_args(self):
        super().configure_args()
        self.add_passthru_arg("--min-length", type=int, default=1)
        self.add_file_arg("--stop-words")

    def steps(self):
        return [MRStep(mapper_pre_filter="grep -v '^#'", mapper=self.words, combiner=self.total,
                       reducer=self.total, jobconf={"mapreduce.job.reduces": 2}),
                MRStep(reducer_cmd="cut -f 2")]

    def words(self, _, line):
        yield line, 1

    def total(self, key, values):
        yield key, sum(values)


if __name__ == "__main__":
    MRGolden.run()
