"""The learner model: what the log says about a person's skills.

beta.py (Beta–Bernoulli maths), profile.py (evidence → posteriors over time), gaps.py (the
gap report and next steps), goals.py (targets and roles), skills.py (the taxonomy and tagging),
cards.py (the bundled skill cards), probes.py (which goal skill a probe should measure next),
tasks.py (the work as evidence: command → skill, error classes, recoveries), repeats.py (asking
again what was answered).
See docs/learner-model.md.
"""
