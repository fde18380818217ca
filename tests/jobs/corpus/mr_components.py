"""An iterative job: connected components by label propagation, one step per iteration (mrjob's
documentation, "Multi-step jobs": steps() built in a loop, the count a passthrough argument)."""
from mapfold.jobs import MRJob, MRStep


class MRComponents(MRJob):
    def configure_args(self):
        super().configure_args()
        self.add_passthru_arg("--iterations", type=int, default=4, help="propagation rounds")

    def steps(self):
        return ([MRStep(mapper=self.edges, reducer=self.node)]
                + [MRStep(mapper=self.spread, reducer=self.relabel)] * self.options.iterations
                + [MRStep(mapper=self.by_label, reducer=self.component)])

    def edges(self, _, line):
        parts = line.split()
        if len(parts) == 2:
            a, b = parts
            yield a, b
            yield b, a

    def node(self, name, neighbours):
        yield name, [name, sorted(set(neighbours))]

    def spread(self, name, state):
        label, neighbours = state
        yield name, ["node", label, neighbours]
        for other in neighbours:
            yield other, ["label", label, None]

    def relabel(self, name, messages):
        label, neighbours = None, []
        offered = []
        for kind, value, links in messages:
            if kind == "node":
                label, neighbours = value, links
            else:
                offered.append(value)
        if offered and min(offered) < label:
            self.increment_counter("propagation", "relabelled")
            label = min(offered)
        yield name, [label, neighbours]

    def by_label(self, name, state):
        yield state[0], name

    def component(self, label, names):
        yield label, sorted(names)


if __name__ == "__main__":
    MRComponents.run()
