"""Every *_init and *_final, counters from each substep, identity mapper and reducer in step 2.

Nothing here depends on how many tasks a runner makes: per-task state is
summed through keys and counters.
"""
from mapfold.jobs import MRJob, MRStep


class MRInitFinal(MRJob):
    def steps(self):
        return [
            MRStep(mapper_init=self.m_init, mapper=self.m, mapper_final=self.m_final,
                   combiner_init=self.c_init, combiner=self.c, combiner_final=self.c_final,
                   reducer_init=self.r_init, reducer=self.r, reducer_final=self.r_final),
            MRStep(mapper=self.to_one_key, reducer_init=self.r2_init, reducer=self.r2, reducer_final=self.r2_final),
        ]

    def m_init(self):
        self.seen = 0

    def m(self, _, line):
        self.seen += 1
        self.increment_counter("map", "lines")
        yield len(line) % 3, 1

    def m_final(self):
        self.increment_counter("map", "lines seen at final", self.seen)
        yield "mapped", self.seen

    def c_init(self):
        self.combined = []  # c() fails unless the combiner's init ran in its task

    def c(self, key, values):
        self.combined.append(key)
        yield key, sum(values)

    def c_final(self):
        self.combined = None

    def r_init(self):
        self.keys = []

    def r(self, key, values):
        self.keys.append(key)
        self.increment_counter("reduce", "keys")
        yield key, sum(values)

    def r_final(self):
        self.increment_counter("reduce", "keys at final", len(self.keys))

    def to_one_key(self, key, total):
        yield None, [key, total]

    def r2_init(self):
        self.pairs = []

    def r2(self, _, pairs):
        self.pairs.extend(pairs)
        return ()

    def r2_final(self):
        if self.pairs:  # only the reduce task that got the one key writes
            self.increment_counter("last", "pairs", len(self.pairs))
            yield "all", sorted(self.pairs, key=repr)


if __name__ == "__main__":
    MRInitFinal.run()
