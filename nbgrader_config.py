"""nbgrader's settings for this course, all read from course_config.py.

Fails closed: if course_config.py or the kit cannot be loaded, nbgrader stops with an
error instead of grading with its stock settings.
"""

import sys
from pathlib import Path

KIT = Path(__file__).resolve().parent
try:
    sys.path.insert(0, str(KIT))
    from autograder.nbgrader_door import configure
except BaseException as error:  # stock nbgrader would only log this and go on
    sys.stderr.write(f"nbgrader_config.py: cannot load the grading kit: {error!r}\n")
    raise SystemExit(2) from None

configure(get_config(), KIT / "course_config.py", course_root=KIT)  # noqa: F821
