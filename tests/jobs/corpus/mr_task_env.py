"""What a task finds in ``os.environ``: Hadoop's task properties (``mapreduce_map_input_file`` and
friends, under Hadoop 1 and 2 names), the job's configuration (``JOBCONF``, a step's ``jobconf``, ``-D``)
with dots as underscores, and ``--cmdenv`` (mrjob's documentation, "Jobconf and environment variables").
Only what does not depend on how the input was split or where the job ran is output."""
import os

from mapfold.jobs import MRJob, MRStep

NAMES = [
    "mapreduce_job_id", "mapred_job_id", "mapreduce_task_id", "mapred_tip_id", "mapreduce_task_attempt_id",
    "mapred_task_id", "mapreduce_task_ismap", "mapred_task_is_map", "mapreduce_task_partition",
    "mapred_task_partition", "mapreduce_task_output_dir", "mapred_work_output_dir", "mapreduce_job_local_dir",
    "job_local_dir", "mapreduce_job_cache_files", "mapred_cache_files", "mapreduce_job_cache_archives",
    "mapred_cache_archives", "mapreduce_job_cache_local_files", "mapred_cache_localFiles",
    "mapreduce_map_input_file", "map_input_file", "mapreduce_map_input_start", "map_input_start",
    "mapreduce_map_input_length", "map_input_length",
]
VALUES = ["mapreduce_task_ismap", "mapred_task_is_map", "job_key", "step_key", "cli_key", "FOO"]


class MRTaskEnv(MRJob):
    JOBCONF = {"job.key": "from JOBCONF", "cli.key": "overridden by -D"}

    def steps(self):
        return [MRStep(mapper=self.facts, reducer=self.distinct, reducer_final=self.reducer_facts,
                       jobconf={"step.key": "from the step"}),
                MRStep(reducer=self.distinct)]

    def _facts(self, kind):
        for name in NAMES:
            yield (kind, "set", name), name in os.environ
        for name in VALUES:
            yield (kind, "value", name), os.environ.get(name)
        yield (kind, "partition is a number"), os.environ["mapreduce_task_partition"].isdigit()
        yield (kind, "task id names the job"), os.environ["mapreduce_job_id"] in os.environ["mapreduce_task_id"]

    def facts(self, _, line):
        yield from self._facts("mapper")
        path = os.environ["mapreduce_map_input_file"]
        yield ("mapper", "input file"), (path.startswith("file://"), os.path.basename(path))

    def distinct(self, key, values):
        for value in sorted(set(map(repr, values))):
            yield key, value

    def reducer_facts(self):
        yield from self._facts("reducer")


if __name__ == "__main__":
    MRTaskEnv.run()
