"""Every sentence a student reads, in Korean and English: check results and lessons.

The three lessons are the instructor's feedback on the random-search answer; the
grader attaches them to failed checks by rule. Sentences say what was checked and
what came back, never the expected answer. The longer notes are in
solutions/feedback_notes.md.
"""

LESSONS = {
    "learning_rate": {
        "ko": (
            "무작위로 뽑은 학습률에는 별다른 의미가 없습니다. "
            "0.1 단위로 직접 바꿔 보면서 결과를 비교해 고르세요."
        ),
        "en": (
            "A learning rate drawn at random tells you little. "
            "Change it by hand in steps of 0.1 and compare the results."
        ),
    },
    "epochs": {
        "ko": (
            "epoch 수는 무작위로 정하지 않습니다. 서버 자원, 시간, 비용이 "
            "허락하는 최댓값으로 고정하고 그 안에서 학습시키세요."
        ),
        "en": (
            "Do not draw the number of epochs at random. Fix it at the most your "
            "server's resources, time and cost allow, and train within it."
        ),
    },
    "tolerance": {
        "ko": (
            "학습은 손실을 줄여 가는 과정입니다. 실제로 조정하는 것은 "
            "Output이 Y에 얼마나 가까워져야 하는지, 그 기준값입니다."
        ),
        "en": (
            "Learning means reducing the loss, so what you really tune is the "
            "threshold: how close Output must come to Y."
        ),
    },
}


# One sentence per way a check can fail: what was checked and what came back, never
# the expected answer. Placeholders are filled from the facts a check reports.
SENTENCES = {
    "not_defined": {
        "ko": "{name}을(를) 노트북에서 찾지 못했습니다 (해당 칸이 오류 없이 실행되는지 확인하세요).",
        "en": "{name} is not defined in your notebook (check that its cell runs without an error).",
    },
    "not_implemented": {
        "ko": "{name}이(가) NotImplementedError를 냈습니다: 아직 채우지 않은 칸입니다.",
        "en": "{name} raised NotImplementedError: its cell has not been filled in yet.",
    },
    "raised": {
        "ko": "{call}이(가) {error}를 냈습니다.",
        "en": "{call} raised {error}.",
    },
    "timed_out": {
        "ko": "{call}이(가) 허용된 CPU 시간 {seconds:g}초 안에 끝나지 않았습니다.",
        "en": "{call} did not finish within the {seconds:g} s of CPU time allowed.",
    },
    "died": {
        "ko": "{call} 도중 노트북의 프로세스가 끝났습니다: {reason}",
        "en": "Your notebook's process ended during {call}: {reason}",
    },
    "wrong_shape": {
        "ko": "{call}이(가) 모양 {shape}인 값을 돌려주었습니다 (기대한 모양: {want}).",
        "en": "{call} returned a value of shape {shape} (the shape asked for is {want}).",
    },
    "wrong_type": {
        "ko": "{call}이(가) {type} 값을 돌려주었습니다 (요구: {want}).",
        "en": "{call} returned a {type} (the contract asks for {want}).",
    },
    "wrong_values": {
        "ko": "{call}의 결과가 {what}과(와) 최대 {difference:.3g}만큼 다릅니다.",
        "en": "{call} differs from {what} by up to {difference:.3g}.",
    },
    "wrong_count": {
        "ko": "{call}이(가) epochs_run = {got}을(를) 돌려주었습니다: {what}.",
        "en": "{call} returned epochs_run = {got}: {what}.",
    },
    "changed_inputs": {
        "ko": "train_step이 인자로 받은 가중치 배열을 바꾸었습니다 (새 배열을 돌려주세요).",
        "en": "train_step changed the weight arrays passed to it (return new arrays instead).",
    },
    "wrong_verdict": {
        "ko": "has_converged가 {case}에 대해 {got}을(를) 돌려주었습니다.",
        "en": "has_converged returned {got} for {case}.",
    },
    "off_grid": {
        "ko": "LEARNING_RATE = {value}은(는) (0, {top:g}] 안의 {step:g} 단위 값이 아닙니다.",
        "en": "LEARNING_RATE = {value} is not a multiple of {step:g} in (0, {top:g}].",
    },
    "epochs_out_of_budget": {
        "ko": "EPOCHS = {value}은(는) 1부터 예산 {budget:,}까지의 정수가 아닙니다.",
        "en": "EPOCHS = {value} is not a whole number from 1 to the budget {budget:,}.",
    },
    "tolerance_too_loose": {
        "ko": "TOLERANCE = {value}은(는) 0보다 크고 과목 기준 {course:g} 이하인 수가 아닙니다.",
        "en": "TOLERANCE = {value} is not a number above 0 and no looser than the course's {course:g}.",
    },
    "choice_changes": {
        "ko": "{name}의 값이 실행할 때마다 달라졌습니다 ({first} → {second}).",
        "en": "{name} changed between two runs of your notebook ({first} → {second}).",
    },
    "choices_unusable": {
        "ko": "학습률·에포크·허용 오차 중 쓸 수 없는 값이 있어 수렴을 확인하지 못했습니다: {which}.",
        "en": "Convergence could not be checked because a choice is unusable: {which}.",
    },
    "not_converged": {
        "ko": "채점용 시작 가중치 {tried}개로 학습해 {passed}개에서만 수렴했습니다. {seeds}개 중 {needed}개가 수렴해야 하므로 남은 시작은 결과를 바꿀 수 없습니다.",
        "en": "Training with your choices converged from only {passed} of the {tried} grading starts tried; {needed} of {seeds} must converge, so the remaining starts could not change the result.",
    },
    "off_trajectory": {
        "ko": "채점용 시작 가중치 {tried}개 중 {off}개에서 train이 수업의 규칙과 다른 길로 학습했습니다.",
        "en": "From {off} of the {tried} grading starts tried, your train did not follow the course's rule.",
    },
    "bad_submission": {
        "ko": "제출한 파일을 채점할 수 없습니다: {reason}",
        "en": "Your submitted file could not be graded: {reason}",
    },
    "check_broke": {
        "ko": "이 점검을 끝까지 실행하지 못했습니다 ({error}). 강사에게 알려 주세요.",
        "en": "This check could not run to the end ({error}); please tell your instructor.",
    },
    "manual": {
        "ko": "서술형 답안은 강사가 직접 채점합니다.",
        "en": "Your written answer is graded by the instructor.",
    },
    "passed": {
        "ko": "통과했습니다.",
        "en": "Passed.",
    },
}


LESSON_LABEL = {"ko": "강사의 조언", "en": "Instructor's lesson"}


def sentence(key: str, language: str, **facts) -> str:
    """The student-facing sentence `key` in `language`, filled with `facts`."""
    return SENTENCES[key][language].format(**facts)


def lesson(topic: str, language: str) -> str:
    return LESSONS[topic][language]


# The feedback page's own words (autograder/recorders/feedback.py): the name of each
# check, and what the numbers from the reference trainer mean.
CHECK_TITLES = {
    "sigmoid_derivative": {
        "ko": "시그모이드의 기울기 (sigmoid_derivative)",
        "en": "The sigmoid's slope (sigmoid_derivative)",
    },
    "train_step": {
        "ko": "한 에포크의 갱신 (train_step)",
        "en": "One epoch (train_step)",
    },
    "train_step_keeps_inputs": {
        "ko": "받은 가중치 배열을 그대로 두기 (train_step)",
        "en": "Leaving the given weights unchanged (train_step)",
    },
    "has_converged": {
        "ko": "수렴 판정 (has_converged)",
        "en": "Has it converged? (has_converged)",
    },
    "train": {
        "ko": "학습 반복 (train)",
        "en": "Training (train)",
    },
    "learning_rate": {
        "ko": "학습률 (LEARNING_RATE)",
        "en": "Learning rate (LEARNING_RATE)",
    },
    "epochs": {
        "ko": "에포크 수 (EPOCHS)",
        "en": "Epochs (EPOCHS)",
    },
    "tolerance": {
        "ko": "허용 오차 (TOLERANCE)",
        "en": "Tolerance (TOLERANCE)",
    },
    "convergence": {
        "ko": "채점용 시작 가중치에서의 수렴",
        "en": "Convergence from the grading starts",
    },
    "why_not_random": {
        "ko": "서술: 무작위 탐색이 좋은 조정 방법이 아닌 이유",
        "en": "Written answer: why random search is a poor way to tune",
    },
}

PAGE = {
    "title": {
        "ko": "{assignment} 채점 결과: {student}",
        "en": "{assignment} feedback: {student}",
    },
    "score": {
        "ko": "자동 채점 {score:g} / {automatic:g}점",
        "en": "Automatic score {score:g} of {automatic:g}",
    },
    "manual_later": {
        "ko": "서술형 {points:g}점은 강사가 읽고 채점한 뒤 더해집니다.",
        "en": "The written answer ({points:g} points) is added once the instructor has read it.",
    },
    "checks": {
        "ko": "점검 항목별 결과",
        "en": "Check by check",
    },
    "check": {"ko": "항목", "en": "Check"},
    "points": {"ko": "점수", "en": "Points"},
    "reason": {"ko": "결과", "en": "Result"},
    "advice": {"ko": "강사의 조언", "en": "Your instructor's advice"},
    "advice_tag": {
        "ko": "강사의 조언 {number}: {topic}",
        "en": "Advice {number}: {topic}",
    },
    "advice_from": {
        "ko": "이 조언이 필요해 보인 항목: {checks}",
        "en": "Where it showed: {checks}",
    },
    "passed": {"ko": "통과", "en": "passed"},
    "failed": {"ko": "미통과", "en": "not passed"},
    "pending": {"ko": "강사 채점", "en": "graded by hand"},
    "choices": {
        "ko": "여러분이 고른 값으로 학습하면",
        "en": "What your choices do",
    },
    "reference_only": {
        "ko": "이 절의 수치와 그래프는 여러분의 코드를 실행한 것이 아니라, 과목의 기준 학습기(reference trainer)를 여러분이 고른 값으로 채점용 시작 가중치에서 실행한 결과입니다.",
        "en": "The numbers and the curve in this section do not come from your code: they come from the course's reference trainer, run with your choices from the grading starts.",
    },
    "your_value": {"ko": "여러분의 값", "en": "Your value"},
    "course_rule": {"ko": "과목 기준", "en": "The course's rule"},
    "rule_learning_rate": {
        "ko": "(0, {top:g}] 안의 {step:g} 단위 값",
        "en": "a multiple of {step:g} in (0, {top:g}]",
    },
    "rule_epochs": {
        "ko": "1부터 예산 {budget:,}까지의 정수",
        "en": "a whole number from 1 to the budget {budget:,}",
    },
    "rule_tolerance": {
        "ko": "0보다 크고 {course:g} 이하",
        "en": "above 0 and at most {course:g}",
    },
    "not_given": {"ko": "(없음)", "en": "(none)"},
    "converged_on": {
        "ko": "채점용 시작 가중치 {seeds}개 중 {converged}개에서 허용 오차 {tolerance:g} 안으로 수렴했습니다 (통과 기준 {needed}개).",
        "en": "Converged within the tolerance {tolerance:g} from {converged} of {seeds} grading starts ({needed} needed to pass).",
    },
    "epochs_needed": {
        "ko": "수렴하기까지 걸린 에포크: 가장 적게 {low:,}, 중앙값 {median:,}, 가장 많이 {high:,}.",
        "en": "Epochs it took to converge: fewest {low:,}, median {median:,}, most {high:,}.",
    },
    "epochs_capped": {
        "ko": "EPOCHS = {value:,}이(가) 예산 {budget:,}보다 커서 예산만큼만 학습했습니다.",
        "en": "EPOCHS = {value:,} is above the budget {budget:,}, so training stopped at the budget.",
    },
    "loose_tolerance": {
        "ko": "TOLERANCE = {value:g}에서 학습을 멈춘 뒤, 수렴 여부는 과목 기준 {course:g}으로 판정했습니다.",
        "en": "Training stopped at TOLERANCE = {value:g}; whether it converged was judged by the course's {course:g}.",
    },
    "no_reference_run": {
        "ko": "학습률·에포크 수·허용 오차 중 쓸 수 없는 값이 있어 기준 학습기를 실행하지 않았습니다: {which}.",
        "en": "The reference trainer was not run because a choice is unusable: {which}.",
    },
    "curve": {
        "ko": "기준 학습기를 여러분의 값으로 채점용 시작 가중치 {count}개에서 실행했을 때, 에포크마다의 평균제곱오차(MSE)입니다. 선이 끝나는 곳이 학습이 멈춘 곳입니다. 점선은 TOLERANCE²로, 네 출력이 모두 허용 오차 안에 들면 MSE는 반드시 이보다 작습니다.",
        "en": "Mean squared error per epoch of the reference trainer run with your choices from {count} grading starts. A line ends where training stopped. The dashed line is TOLERANCE²: once all four outputs are within the tolerance, the MSE is below it.",
    },
    "not_graded": {
        "ko": "제출물을 채점하지 못해 고른 값을 읽을 수 없었습니다.",
        "en": "Your submission could not be graded, so your choices could not be read.",
    },
    "footer": {
        "ko": "이 페이지에는 숨겨진 점검 코드와 정답 값이 들어 있지 않습니다. 질문은 강사에게 해 주세요.",
        "en": "This page holds no hidden check code and no expected values. Ask your instructor if anything is unclear.",
    },
}


LESSON_TITLES = {
    "learning_rate": {"ko": "학습률", "en": "Learning rate"},
    "epochs": {"ko": "에포크 수", "en": "Epochs"},
    "tolerance": {"ko": "허용 오차", "en": "Tolerance"},
}


def lesson_title(topic: str, language: str) -> str:
    return LESSON_TITLES[topic][language]


def check_title(check: str, language: str) -> str:
    return CHECK_TITLES[check][language]


def page_text(key: str, language: str, **facts) -> str:
    """The feedback page's text `key` in `language`, filled with `facts`."""
    return PAGE[key][language].format(**facts)
