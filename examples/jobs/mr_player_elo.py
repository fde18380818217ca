"""Player ability by Elo rating (chapter 8, "Tennis analytics with Hadoop"): every match in date
order updates its two players' ratings. The order matters, so one reducer gets every match with
``SORT_VALUES`` (values sorted, as Hadoop's secondary sort gives them), and a second step ranks.

    python examples/jobs/mr_player_elo.py data/matches.csv -r local
"""
import csv

from mapfold.jobs import MRJob, MRStep  # was: from mrjob.job import MRJob; from mrjob.step import MRStep

K = 32  # how far one match moves a rating


class MRPlayerElo(MRJob):
    SORT_VALUES = True

    def steps(self):
        return [MRStep(mapper=self.match, reducer=self.ratings),
                MRStep(mapper=self.to_ranking, reducer=self.ranking)]

    def match(self, _, line):
        row = next(csv.reader([line]))
        if row[0] != "tourney_date":
            yield "matches", [row[0], row[1], row[3], row[4]]  # date first: the values sort by it

    def ratings(self, _, matches):
        rating: dict = {}
        for _date, _tourney, winner, loser in matches:
            w, l = rating.get(winner, 1500.0), rating.get(loser, 1500.0)
            expected = 1 / (1 + 10 ** ((l - w) / 400))
            rating[winner], rating[loser] = w + K * (1 - expected), l - K * (1 - expected)
        for player, value in rating.items():
            yield player, round(value)

    def to_ranking(self, player, value):
        yield None, [value, player]

    def ranking(self, _, values):
        for place, (value, player) in enumerate(sorted(values, reverse=True), 1):
            yield place, [player, value]


if __name__ == "__main__":
    MRPlayerElo.run()
