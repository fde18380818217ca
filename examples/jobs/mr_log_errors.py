"""Counting errors in a web server's log (chapter 8, "Counting errors with mrjob"): requests that
failed, by status code and page, with a combiner; lines that are not requests are counted, not mapped.

    python examples/jobs/mr_log_errors.py data/access.log -r local
"""
import re

from mapfold.jobs import MRJob, MRStep  # was: from mrjob.job import MRJob; from mrjob.step import MRStep

REQUEST = re.compile(r'^(\S+) \S+ \S+ \[([^]]+)\] "(\S+) (\S+) [^"]*" (\d{3}) (\S+)$')


class MRLogErrors(MRJob):
    def steps(self):
        return [MRStep(mapper=self.failures, combiner=self.total, reducer=self.total),
                MRStep(mapper=self.by_status, reducer=self.worst_pages)]

    def failures(self, _, line):
        match = REQUEST.match(line)
        if match is None:
            self.increment_counter("log", "not a request")
            return
        status, page = int(match.group(5)), match.group(4)
        if status >= 400:
            self.increment_counter("log", "client errors" if status < 500 else "server errors")
            yield [status, page], 1

    def total(self, status_page, counts):
        yield status_page, sum(counts)

    def by_status(self, status_page, count):
        # step 2 regroups by status alone (the key came through JSON as a list)
        status, page = status_page
        yield status, [page, count]

    def worst_pages(self, status, pages):
        ranked = sorted(pages, key=lambda page_count: (-page_count[1], page_count[0]))
        yield status, {"requests": sum(count for _, count in ranked), "worst": ranked[:3]}


if __name__ == "__main__":
    MRLogErrors.run()
