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
        "ko": "채점용 시작 가중치 {seeds}개 중 {passed}개에서만 수렴했습니다 (필요: {needed}개).",
        "en": "Training with your choices converged from {passed} of {seeds} grading starts ({needed} needed).",
    },
    "off_trajectory": {
        "ko": "채점용 시작 가중치 {seeds}개 중 {off}개에서 train이 수업의 규칙과 다른 길로 학습했습니다.",
        "en": "From {off} of {seeds} grading starts, your train did not follow the course's rule.",
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


def sentence(key: str, language: str, **facts) -> str:
    """The student-facing sentence `key` in `language`, filled with `facts`."""
    return SENTENCES[key][language].format(**facts)


def lesson(topic: str, language: str) -> str:
    return LESSONS[topic][language]
