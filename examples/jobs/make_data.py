"""The chapter 8 jobs' input, generated (seeded, so every run makes the same files).

    python examples/jobs/make_data.py [FOLDER] [--matches N] [--requests N]

writes ``FOLDER/access.log`` (web server requests, Apache's common log
format) and ``FOLDER/matches.csv`` (tennis matches: date, tournament,
surface, winner, loser, score), the two kinds of data chapter 8 analyses.
"""
from __future__ import annotations

import argparse
import csv
import datetime
import os
import random

PLAYERS = ["Serena Williams", "Venus Williams", "Maria Sharapova", "Justine Henin", "Kim Clijsters",
           "Lindsay Davenport", "Amelie Mauresmo", "Jennifer Capriati", "Martina Hingis", "Ana Ivanovic"]
SURFACES = ["Hard", "Clay", "Grass", "Carpet"]
PAGES = ["/", "/index.html", "/scores", "/players", "/players/serena", "/draws.pdf", "/admin", "/favicon.ico"]
STATUSES = [200] * 30 + [304] * 5 + [301, 403, 404, 404, 404, 500, 503]


def write_matches(path: str, count: int, rng: random.Random) -> None:
    strength = {player: rng.uniform(0.5, 2.0) for player in PLAYERS}
    strength["Serena Williams"] = 3.0  # the book's question: how dominant was she, and where?
    day = datetime.date(1999, 1, 4)
    with open(path, "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["tourney_date", "tourney_name", "surface", "winner_name", "loser_name", "score"])
        for number in range(count):
            day += datetime.timedelta(days=rng.randint(0, 3))
            surface = rng.choice(SURFACES)
            a, b = rng.sample(PLAYERS, 2)
            bonus = 1.5 if surface == "Grass" and "Williams" in a else 1.0
            winner, loser = (a, b) if rng.random() < strength[a] * bonus / (strength[a] * bonus + strength[b]) \
                else (b, a)
            score = " ".join(f"6-{rng.randint(0, 4)}" for _ in range(2))
            out.writerow([day.strftime("%Y%m%d"), f"Open {number % 40}", surface, winner, loser, score])


def write_log(path: str, count: int, rng: random.Random) -> None:
    start = datetime.datetime(2019, 6, 1, tzinfo=datetime.timezone.utc)
    with open(path, "w", encoding="utf-8") as f:
        for number in range(count):
            when = start + datetime.timedelta(seconds=number * 7)
            host = f"10.0.{rng.randint(0, 9)}.{rng.randint(1, 254)}"
            status = rng.choice(STATUSES)
            size = "-" if status in (304, 500) else str(rng.randint(200, 90000))
            f.write(f'{host} - - [{when:%d/%b/%Y:%H:%M:%S %z}] "GET {rng.choice(PAGES)} HTTP/1.1" {status} {size}\n')
        f.write("a line that is not a request\n")  # real logs have some


def main(folder: str, matches: int, requests: int) -> None:
    os.makedirs(folder, exist_ok=True)
    write_matches(os.path.join(folder, "matches.csv"), matches, random.Random(8))
    write_log(os.path.join(folder, "access.log"), requests, random.Random(80))
    print(f"wrote {folder}/matches.csv ({matches} matches) and {folder}/access.log ({requests} requests)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", nargs="?", default="data")
    parser.add_argument("--matches", type=int, default=5000)
    parser.add_argument("--requests", type=int, default=20000)
    args = parser.parse_args()
    main(args.folder, args.matches, args.requests)
