"""Help during work: one `ask` from question to logged answer (ask.py), its context within a
token budget (context.py), the prompt for the learner's level (pedagogy.py), which backend
answers and why (choose.py), model calls with an offline fallback for reflect and check
(modelcall.py), and running a command to learn from its failure (wrap.py)."""
