"""A player's dominance by court surface (chapter 8, "Counting Serena's dominance by court type"):
from a CSV of matches, the player's wins, losses and win ratio on each surface.

    python examples/jobs/mr_court_dominance.py data/matches.csv -r local --player "Serena Williams"
"""
import csv

from mapfold.jobs import MRJob  # was: from mrjob.job import MRJob


class MRCourtDominance(MRJob):
    def configure_args(self):
        super().configure_args()
        self.add_passthru_arg("--player", default="Serena Williams", help="whose matches to count")

    def mapper(self, _, line):
        row = next(csv.reader([line]))
        if row[0] == "tourney_date":  # the header
            return
        surface, winner, loser = row[2], row[3], row[4]
        if self.options.player in (winner, loser):
            yield surface, [1, 0] if winner == self.options.player else [0, 1]

    @staticmethod
    def _sum(won_lost):
        won = lost = 0
        for w, l in won_lost:
            won, lost = won + w, lost + l
        return won, lost

    def combiner(self, surface, won_lost):
        # reads and writes what the mapper writes: Hadoop may run it any number of times
        yield surface, list(self._sum(won_lost))

    def reducer(self, surface, won_lost):
        won, lost = self._sum(won_lost)
        yield surface, {"won": won, "lost": lost, "ratio": round(won / (won + lost), 3)}


if __name__ == "__main__":
    MRCourtDominance.run()
