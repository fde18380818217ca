"""Word count as a ``spark()`` step (mrjob's documentation, "Spark"): the job's
own PySpark RDD code, given the input path(s) and the output folder."""
import re
from operator import add

from mapfold.jobs import MRJob

WORD_RE = re.compile(r"[\w']+")


class MRSparkWordCount(MRJob):
    def spark(self, input_path, output_path):
        from pyspark import SparkContext  # mapfold's compat layer while the step runs (docs/jobs.md)

        sc = SparkContext(appName="mr spark word count")
        lines = sc.textFile(input_path)
        counts = (lines.flatMap(WORD_RE.findall)
                  .map(lambda word: (word.lower(), 1))
                  .reduceByKey(add)
                  .map(lambda pair: f"{pair[0]}\t{pair[1]}"))
        counts.saveAsTextFile(output_path)
        sc.stop()


if __name__ == "__main__":
    MRSparkWordCount.run()
