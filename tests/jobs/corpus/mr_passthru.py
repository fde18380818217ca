"""A passthrough argument, a file argument and counters (mrjob's "Defining command line options")."""
from mapfold.jobs import MRJob


class MRLongWords(MRJob):
    def configure_args(self):
        super().configure_args()
        self.add_passthru_arg("--min-length", type=int, default=1, help="shortest word counted")
        self.add_file_arg("--stop-words", help="a file of words to skip, one a line")

    def mapper_init(self):
        self.stop = set()
        if self.options.stop_words:
            with open(self.options.stop_words, encoding="utf-8") as f:
                self.stop = {line.strip() for line in f}

    def mapper(self, _, line):
        for word in line.split():
            word = word.lower()
            if word in self.stop:
                self.increment_counter("skipped", "stop word")
            elif len(word) < self.options.min_length:
                self.increment_counter("skipped", "too short")
            else:
                yield word, 1

    def reducer(self, word, counts):
        self.set_status("reducing " + word)
        yield word, sum(counts)


if __name__ == "__main__":
    MRLongWords.run()
