"""Sibling rivalry (chapter 8, "Sibling rivalry for the ages"): the matches between two players, who won
more on each surface and overall; two steps, with JSON records between them.

    python examples/jobs/mr_sibling_rivalry.py data/matches.csv -r local
"""
import csv

from mapfold.jobs import MRJob, MRStep  # was: from mrjob.job import MRJob; from mrjob.step import MRStep


class MRSiblingRivalry(MRJob):
    def configure_args(self):
        super().configure_args()
        self.add_passthru_arg("--players", default="Serena Williams,Venus Williams", help="two names, a comma")

    def steps(self):
        return [MRStep(mapper=self.head_to_head, combiner=self.count, reducer=self.count),
                MRStep(mapper=self.by_surface, reducer=self.leader)]

    def head_to_head(self, _, line):
        row = next(csv.reader([line]))
        players = set(self.options.players.split(","))
        if row[0] != "tourney_date" and {row[3], row[4]} == players:
            self.increment_counter("rivalry", "matches")
            yield [row[2], row[3]], 1
            yield ["All surfaces", row[3]], 1

    def count(self, surface_winner, ones):
        yield surface_winner, sum(ones)

    def by_surface(self, surface_winner, wins):
        surface, winner = surface_winner
        yield surface, [wins, winner]

    def leader(self, surface, wins_winner):
        table = sorted(wins_winner, reverse=True)
        yield surface, {"leader": table[0][1], "wins": {winner: wins for wins, winner in table}}


if __name__ == "__main__":
    MRSiblingRivalry.run()
