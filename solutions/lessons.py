"""The instructor's three lessons on the random-search answer, as short bilingual text.

The grader attaches these to failed checks, so each is student-facing and names no
answer value beyond the 0.1-step rule. The longer notes are in feedback_notes.md.
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
