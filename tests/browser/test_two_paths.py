"""Both paths in Chromium: the instructor releases and grades, the student submits."""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

import pytest
from nbgrader.utils import get_username
from playwright.sync_api import expect, sync_playwright

from autograder.course import prepare_course_dir
from solutions.samples import reference_answers
from tests.browser.lab_server import start_lab, stop_lab

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_INSTALL = "sudo apt-get install -y chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip

# Playwright waits, in milliseconds. Each formgrader button runs an nbgrader command
# in the server (seconds, tens of them on a busy 2-core machine); grading and
# validating run the whole notebook.
STEP_MS = 30_000
KERNEL_MS = 60_000
NBGRADER_MS = 90_000
GRADE_MS = 120_000

# The one answer the student types; the rest are pasted into the notebook's model.
TYPED_CELL = "choices_code"
TYPED_ANSWER = "LEARNING_RATE = 0.2\nEPOCHS = 10_000\nTOLERANCE = 0.1"
WRITTEN_CELL = "why_not_random"
WRITTEN_ANSWER = (
    "무작위로 뽑은 학습률은 의미가 없고, 에포크는 서버가 감당할 만큼 정해야 합니다. / "
    "A random learning rate means little; fix the epochs the server can afford."
)

# The feasibility run saw formgrader raise a MathJax page error that breaks nothing;
# any other error raised in a page fails the test.
HARMLESS_PAGE_ERROR = re.compile("MathJax")


@pytest.fixture
def chromium() -> Path:
    if not CHROMIUM.exists():
        pytest.fail(
            f"the browser test drives Debian's Chromium at {CHROMIUM}, which is "
            f"missing; install it with:  {CHROMIUM_INSTALL}  (make test does this "
            "itself when it runs as root)"
        )
    return CHROMIUM


@pytest.fixture
def course(tmp_path, config) -> Path:
    """A scratch course directory whose exchange is inside tmp_path."""
    course = prepare_course_dir(tmp_path / "course", config)
    exchange = tmp_path / "exchange"
    exchange.mkdir()
    with (course / "nbgrader_config.py").open("a", encoding="utf-8") as shim:
        shim.write(
            "\nc = get_config()  # noqa: F821\n"
            f"c.Exchange.root = {str(exchange)!r}\n"
            f"c.CourseDirectory.course_id = {config.course_id!r}\n"
        )
    return course


@pytest.fixture
def lab(course, tmp_path):
    server = start_lab(course, tmp_path / "lab")
    yield server
    stop_lab(server)


@pytest.fixture
def browser(chromium):
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def context(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(STEP_MS)
    yield context
    context.close()


def new_tab(context, errors: list[str]):
    tab = context.new_page()
    tab.on("pageerror", lambda error: errors.append(f"{tab.url}: {error}"))
    return tab


@contextlib.contextmanager
def screenshots_on_failure(context, folder: Path):
    try:
        yield
    except BaseException:
        folder.mkdir(parents=True, exist_ok=True)
        for number, tab in enumerate(context.pages):
            path = folder / f"tab{number}.png"
            with contextlib.suppress(Exception):
                tab.screenshot(path=str(path), full_page=True)
                print(f"screenshot of {tab.url} on failure: {path}")
        raise


def test_a_submission_travels_from_release_to_feedback(context, lab, config, tmp_path):
    assignment, errors = config.assignment_id, []
    # the exchange files a submission under the account that runs the server
    student_id = get_username()
    instructor, student = new_tab(context, errors), new_tab(context, errors)
    with screenshots_on_failure(context, tmp_path / "screenshots"):
        instructor_releases(instructor, lab, assignment)

        student_opens_lab(student, lab)
        student_fetches(student, assignment)
        student_runs_all(student)
        error = first_error_output(student)
        expect(error).to_be_visible(timeout=STEP_MS)
        expect(error).to_contain_text("NotImplementedError", timeout=STEP_MS)
        student_fills_in(student)
        student_validates(student)
        student_submits(student, assignment)

        instructor_collects(instructor, lab, assignment)
        score = instructor_autogrades(instructor, lab, assignment, student_id)
        # the reference answers earn every automatic point; the written answer
        # waits for the instructor
        assert score == (config.automatic_points, sum(config.points.values()))

        instructor_releases_feedback(instructor, lab, assignment, student_id)
        feedback = student_opens_feedback(student, assignment)
        assert assignment in feedback
        assert shows_number(feedback, score[0]), (
            f"the feedback page does not show the score {score[0]:g}: {feedback[:2000]}"
        )

        unexpected = [e for e in errors if not HARMLESS_PAGE_ERROR.search(e)]
        assert not unexpected, f"the pages raised: {unexpected}"


def shows_number(text: str, number: float) -> bool:
    """`number` as a whole token of `text`: 13 matches "13" or "13.0", not "113"."""
    return re.search(rf"(?<![\d.]){number:g}(\.0+)?(?![\d.])", text) is not None


# The instructor, in formgrader ------------------------------------------------------


def instructor_releases(page, lab, assignment):
    page.goto(lab.at("/formgrader/manage_assignments"))
    row = assignment_row(page, assignment)
    row.locator("td.assign a").click()
    close_success_modal(page, "Successfully created the student version")
    row.locator("td.release a").click()
    close_success_modal(page, "Successfully released")
    row.locator("td.status", has_text="released").wait_for()


def instructor_collects(page, lab, assignment):
    page.goto(lab.at("/formgrader/manage_assignments"))
    assignment_row(page, assignment).locator("td.collect a").click()
    close_success_modal(page, "Successfully collected")


def instructor_autogrades(page, lab, assignment, student_id) -> tuple[float, float]:
    """Autograde one submission; returns formgrader's (score, max score) for it."""
    page.goto(lab.at(f"/formgrader/manage_submissions/{assignment}"))
    row = submission_row(page, student_id)
    row.locator("td.autograde a").click()
    close_success_modal(page, "Successfully autograded", timeout=GRADE_MS)
    score = row.locator("td.score")
    score.filter(has_text="/").wait_for()
    got, total = score.inner_text().split("/")
    return float(got), float(total)


def instructor_releases_feedback(page, lab, assignment, student_id):
    page.goto(lab.at(f"/formgrader/manage_submissions/{assignment}"))
    row = submission_row(page, student_id)
    row.locator("td.generate-feedback a").click()
    close_success_modal(page, "Successfully generated feedback")
    row.locator("td.release-feedback a").click()
    close_success_modal(page, "Successfully released feedback")


def assignment_row(page, assignment):
    return page.locator("tr", has=page.locator("td.name", has_text=assignment))


def submission_row(page, student_id):
    cell = page.locator("td.student-id").get_by_text(student_id, exact=True)
    return page.locator("tr", has=cell)


def close_success_modal(page, expected: str, timeout: int = NBGRADER_MS):
    """Wait for formgrader's answer; an error modal fails with nbgrader's log."""
    modal = page.locator("#success-modal, #error-modal")
    modal.wait_for(timeout=timeout)
    text = modal.inner_text()
    assert modal.get_attribute("id") == "success-modal", text
    assert expected in text, text
    modal.locator("button.close").last.click()
    modal.wait_for(state="detached")


# The student, in Jupyter Lab ----------------------------------------------------


def student_opens_lab(page, lab):
    page.goto(lab.at("/lab?reset"))
    page.wait_for_function("() => window.jupyterapp !== undefined")
    page.evaluate("() => window.jupyterapp.restored")
    # the reset closes every panel when it drops `?reset` from the address, which
    # can come after `restored`
    page.wait_for_url(re.compile(r"/lab(\?(?!.*reset).*)?$"))
    page.locator(".jp-Launcher").wait_for()


def student_fetches(page, assignment):
    open_assignment_list(page)
    released = page.locator(
        "#released_assignments_list .list_item", has_text=assignment
    )
    released.get_by_role("button", name="Fetch").click()
    fetched = page.locator("#fetched_assignments_list")
    fetched.get_by_role("button", name=assignment).click()
    fetched.locator(".assignment-notebooks").get_by_role(
        "link", name=assignment
    ).click()
    page.wait_for_function(NOTEBOOK_IS_OPEN)


def open_assignment_list(page):
    page.get_by_role("menuitem", name="Nbgrader").click()
    page.get_by_role("menuitem", name="Assignment List").click()


NOTEBOOK_IS_OPEN = """() => {
    const panel = window.jupyterapp.shell.currentWidget;
    return !!panel && !!panel.content && !!panel.content.model
        && panel.context.path.endsWith('.ipynb');
}"""

KERNEL_IS_IDLE = """() => {
    const panel = window.jupyterapp.shell.currentWidget;
    const session = panel.sessionContext.session;
    const kernel = session && session.kernel;
    return !!kernel && kernel.connectionStatus === 'connected'
        && kernel.status === 'idle';
}"""

ERROR_OUTPUT = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'


def student_runs_all(page):
    """Run All once the kernel is idle: a Run All sent earlier is silently dropped."""
    page.wait_for_function(KERNEL_IS_IDLE, timeout=KERNEL_MS)
    page.evaluate("() => window.jupyterapp.commands.execute('runmenu:run-all')")
    page.locator(ERROR_OUTPUT).first.wait_for(timeout=KERNEL_MS)


def first_error_output(page):
    """The first error output, scrolled into view as a student would."""
    error = page.locator(ERROR_OUTPUT).first
    error.scroll_into_view_if_needed()
    return error


PASTE_ANSWERS = """(answers) => {
    const cells = window.jupyterapp.shell.currentWidget.content.model.cells;
    for (let index = 0; index < cells.length; index++) {
        const cell = cells.get(index);
        const gradeId = (cell.getMetadata('nbgrader') || {}).grade_id;
        if (gradeId in answers) { cell.sharedModel.setSource(answers[gradeId]); }
    }
}"""

SELECT_CELL = """(gradeId) => {
    const notebook = window.jupyterapp.shell.currentWidget.content;
    const cells = notebook.model.cells;
    for (let index = 0; index < cells.length; index++) {
        if ((cells.get(index).getMetadata('nbgrader') || {}).grade_id === gradeId) {
            notebook.activeCellIndex = index;
            return notebook.scrollToItem(index).then(() => index);
        }
    }
    return -1;
}"""

CELL_SOURCE = """(index) => window.jupyterapp.shell.currentWidget.content.model
    .cells.get(index).sharedModel.getSource()"""

IS_SAVED = "() => !window.jupyterapp.shell.currentWidget.context.model.dirty"


def student_fills_in(page):
    """Paste the reference answers, type one through the editor, and save."""
    answers = reference_answers()
    del answers[TYPED_CELL]
    answers[WRITTEN_CELL] = WRITTEN_ANSWER
    page.evaluate(PASTE_ANSWERS, answers)

    index = page.evaluate(SELECT_CELL, TYPED_CELL)
    assert index >= 0, f"no cell with grade id {TYPED_CELL} in the fetched notebook"
    page.locator(".jp-Notebook .jp-Cell.jp-mod-active .cm-content").click()
    page.keyboard.press("ControlOrMeta+A")
    page.keyboard.type(TYPED_ANSWER)
    assert page.evaluate(CELL_SOURCE, index) == TYPED_ANSWER

    page.keyboard.press("ControlOrMeta+S")
    page.wait_for_function(IS_SAVED)


def student_validates(page):
    page.locator(".jp-NotebookPanel-toolbar .validate-button").click()
    dialog = page.locator(".jp-Dialog")
    dialog.wait_for(timeout=GRADE_MS)
    text = dialog.inner_text()
    assert "Success! Your notebook passes all the tests." in text, text
    dialog.locator(".jp-Dialog-button.jp-mod-accept").click()
    dialog.wait_for(state="detached")


def student_submits(page, assignment):
    open_assignment_list(page)
    fetched = page.locator("#fetched_assignments_list .list_item", has_text=assignment)
    fetched.get_by_role("button", name="Submit").first.click()
    submitted = page.locator("#submitted_assignments_list")
    submitted.locator(".list_item", has_text=assignment).first.wait_for()


def student_opens_feedback(page, assignment) -> str:
    """Fetch the released feedback in the Assignment List and open its page."""
    open_assignment_list(page)
    submitted = page.locator("#submitted_assignments_list")
    submitted.get_by_role("button", name="Fetch Feedback").first.click()
    submitted.get_by_text("(view feedback)").first.click()
    page.locator(".jp-DirListing-item", has_text=f"{assignment}.html").dblclick()
    page.frame_locator(".jp-HTMLViewer iframe").locator("body").wait_for()
    return page.frame_locator(".jp-HTMLViewer iframe").locator("body").inner_text()
