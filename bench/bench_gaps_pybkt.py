"""pyBKT side of bench_gaps_validity.py; runs inside bench/.venv-gaps (pyBKT is not a learnflow dependency).

    bench/.venv-gaps/bin/python bench/bench_gaps_pybkt.py IN.csv OUT.csv SEED

IN has order_id, user_id, skill_name, correct, heldout. The model is fitted by
EM on the rows with heldout = 0 (standard BKT: prior, learn, guess, slip per
skill, no forgetting), then predicts every row one step ahead (each prediction
uses only the rows before it), and OUT gets the held-out rows with
correct_predictions (P(right)) and state_predictions (P(known) before answering).
"""

import sys

import pandas as pd
from pyBKT.models import Model


def main() -> int:
    path_in, path_out, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
    data = pd.read_csv(path_in)
    train = data[data["heldout"] == 0]
    model = Model(seed=seed, num_fits=5, parallel=False)
    model.fit(data=train)
    fitted = set(train["skill_name"].unique())
    known = data[data["skill_name"].isin(fitted)]
    pred = model.predict(data=known)
    held = pred[pred["heldout"] == 1][["user_id", "skill_name", "correct_predictions", "state_predictions"]]
    held.to_csv(path_out, index=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
