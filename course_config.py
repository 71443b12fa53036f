"""The course's settings for the XOR back-propagation assignment: the one file to edit.

Every value is checked when the kit or nbgrader loads this file; a wrong value stops
everything with a message naming the setting, the value and the rule. Check your
edits with:  python course_config.py
"""

# Who and what --------------------------------------------------------------------
COURSE_ID = "ml-understanding"
ASSIGNMENT_ID = "xor_backprop"

# The instructor's second lesson: fix the epochs at what the server can afford.
# 10,000 is the random-search answer's own maximum; `python -m autograder
# calibrate` proposes a value measured on this machine.
EPOCH_BUDGET = 10_000

# The instructor's first lesson: learning rates are tuned by hand in 0.1 steps.
# The grid is every multiple of LEARNING_RATE_STEP in (0, LEARNING_RATE_MAX].
LEARNING_RATE_STEP = 0.1
LEARNING_RATE_MAX = 1.0

# The instructor's third lesson: how close every output must come to its target.
# Students choose their own TOLERANCE; it may be tighter, never looser.
COURSE_TOLERANCE = 0.1

# Starting weights are drawn from each grading seed; a choice passes the
# convergence check when it converges on at least SEEDS_TO_PASS of them.
GRADING_SEEDS = tuple(range(20))
SEEDS_TO_PASS = 17

# Points per check. The names are the grade ids of the source notebook's cells.
POINTS = {
    "sigmoid_derivative": 1,
    "train_step": 2,
    "train_step_keeps_inputs": 1,
    "has_converged": 1,
    "train": 2,
    "learning_rate": 1,
    "epochs": 1,
    "tolerance": 1,
    "convergence": 3,
    "why_not_random": 2,  # the written answer, graded by hand
}

# Limits for one submission while it is graded.
CPU_SECONDS_PER_CELL = 60
CPU_SECONDS_TOTAL = 240
MEMORY_MB = 1024
OUTPUT_KB = 256
MAX_PROCESSES = 64
NOTEBOOK_MAX_MB = 5

# Language of the feedback students read: "ko" (Korean) or "en" (English).
FEEDBACK_LANGUAGE = "ko"

if __name__ == "__main__":
    import pathlib
    import sys

    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
    from autograder.config import main

    main(__file__)
