"""The dispatcher console, driven in headless Chromium (Debian's /usr/bin/chromium through
the playwright package; no browser is downloaded) against a server on 127.0.0.1.

Screenshots of each main screen go to tests/output/console/ (not committed)."""
import os
import threading
from pathlib import Path

import pytest

from conftest import API_TOKEN

CHROMIUM = Path(os.environ.get("TRIAGE_TEST_CHROMIUM", "/usr/bin/chromium"))
SCREENS = Path(__file__).parent / "output" / "console"
TRANSCRIPT = "喂，你好，我们小区楼下那家饭店油烟直排，熏得家里不敢开窗，已经好几个月了，电话13812345678"

playwright_api = pytest.importorskip("playwright.sync_api")
if not CHROMIUM.is_file():
    pytest.skip(f"no Chromium at {CHROMIUM}: apt-get install chromium (.ci/run does)", allow_module_level=True)


@pytest.fixture
def server(small_model_dir, tmp_path):
    from werkzeug.serving import make_server

    from service import create_app

    app = create_app({"model_dir": str(small_model_dir), "database_url": f"sqlite:///{tmp_path / 'console.db'}",
                      "api_tokens": (API_TOKEN,), "caller_secret": "console-secret", "QUIET_ACCESS_LOG": True})
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}", app
    httpd.shutdown()
    thread.join()


@pytest.fixture
def page(server):
    origin, _ = server
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
        tab = context.new_page()
        tab.requests_seen = []
        tab.on("request", lambda request: tab.requests_seen.append(request.url))
        tab.console_errors = []
        tab.on("console", lambda message: message.type == "error" and tab.console_errors.append(message.text))
        tab.set_default_timeout(10_000)
        yield tab
        context.close()
        browser.close()


def shot(page, name):
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"{name}.png"))


def sign_in(page, origin, token=API_TOKEN):
    page.goto(origin + "/console")
    page.fill("#token", token)
    page.fill("#actor", "派单员甲")
    page.press("#actor", "Enter")


def take_in(page, origin, text) -> int:
    """Sign in, take ``text`` in as a case and return its number."""
    sign_in(page, origin)
    page.wait_for_selector("#work:not([hidden])")
    page.fill("#text", text)
    page.click("#intake button")
    page.wait_for_selector("#case-line:has-text('工单 #')")
    return int(page.text_content("#case-line").split("#")[1].split()[0])


def test_nothing_is_shown_without_a_token_and_a_wrong_token_is_refused(page, server):
    origin, _ = server
    page.goto(origin + "/")  # the root leads to the console
    assert page.url == origin + "/console"
    assert page.is_visible("#sign-in") and not page.is_visible("#work")
    shot(page, "1-sign-in")
    sign_in(page, origin, token="wrong-token-0000000000")
    page.wait_for_selector("#sign-in-error:has-text('令牌不对')")
    assert not page.is_visible("#work")


def test_intake_correct_the_department_and_find_it_in_that_queue(page, server):
    origin, app = server
    sign_in(page, origin)
    page.wait_for_selector("#work:not([hidden])")
    page.keyboard.press("Escape")  # sign-in leaves the focus in the text box; leave it
    page.keyboard.press("/")  # the keyboard alone: / to the text box, Ctrl+Enter to take the case in
    assert page.evaluate("document.activeElement.id") == "text"
    page.keyboard.type(TRANSCRIPT)
    page.fill("#phone", "138 1234 5678")
    page.focus("#text")
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("#result:not([hidden])")
    page.wait_for_selector("#case-line:has-text('工单 #')")
    case_id = int(page.text_content("#case-line").split("#")[1].split()[0])
    suggested = page.input_value("#d-department")
    assert page.text_content("#category").startswith("环境保护")
    assert page.locator("#departments-top li").count() == 3
    assert page.locator("#highlighted mark").count() >= 1  # the words behind the suggestion
    assert "13812345678" not in page.text_content("#highlighted")  # masked
    shot(page, "2-intake")

    target = "城市管理和综合执法局" if suggested != "城市管理和综合执法局" else "生态环境局"
    page.keyboard.press("Escape")
    page.keyboard.press("c")  # C: straight to the department field
    assert page.evaluate("document.activeElement.id") == "d-department"
    page.fill("#d-department", target)
    page.click("#correct")
    page.wait_for_selector(f"#status:has-text('已提交更正：{target}')")
    shot(page, "3-corrected")

    page.fill("#filter-department", target)
    page.click("#filters button")
    page.wait_for_selector(f"#queue tbody tr[data-case-id='{case_id}']")
    assert f"department={target}" in page.evaluate("decodeURIComponent(location.search)")
    assert page.locator("#queue tbody tr").count() == 1
    shot(page, "4-queue")

    case = app.extensions["triage"].store.get(case_id)
    assert case["department"] == target
    assert any(event["actor"] == "派单员甲" and event["department"] == target for event in case["events"])
    [label] = [row for row in app.extensions["triage"].store.export_labels() if row["case_id"] == case_id]
    assert label["department"] == target and label["category"] == "环境保护"

    page.reload()  # the token lasts the browser session, the filters live in the URL
    page.wait_for_selector(f"#queue tbody tr[data-case-id='{case_id}']")
    assert page.input_value("#filter-department") == target and not page.is_visible("#sign-in")
    assert all(url.startswith(origin) for url in page.requests_seen)  # nothing from elsewhere
    assert page.console_errors == []


def test_a_repeat_caller_is_shown_and_a_suggestion_accepted_by_key(page, server):
    origin, app = server
    sign_in(page, origin)
    page.wait_for_selector("#work:not([hidden])")
    for _ in range(2):
        page.fill("#text", TRANSCRIPT)
        page.fill("#phone", "13812345678")
        page.click("#intake button")
        page.wait_for_selector("#status:has-text('已受理')")
    page.wait_for_selector("#repeat.is-repeat")
    assert "重复件" in page.text_content("#repeat") and page.locator("#repeat table tr").count() == 2
    shot(page, "5-repeat")

    page.keyboard.press("Escape")
    page.keyboard.press("k")
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    page.wait_for_selector("#status:has-text('工单 #')")
    opened = int(page.text_content("#case-line").split("#")[1].split()[0])
    page.keyboard.press("a")
    page.wait_for_selector("#status:has-text('已采纳建议')")
    labels = [row for row in app.extensions["triage"].store.export_labels() if row["case_id"] == opened]
    assert labels and labels[0]["department"]


def test_raising_the_urgency_moves_the_case_and_accepting_later_keeps_it(page, server):
    """A dispatcher reads a transcript the model calls 一般 and corrects it to 特急: the case
    gets 特急 in the queue; a colleague who then accepts the suggestion by key does not
    undo it."""
    origin, app = server
    case_id = take_in(page, origin, "小区门口的路灯坏了一个多月了，晚上黑漆漆的，请尽快安排维修")
    store = app.extensions["triage"].store
    assert store.get(case_id)["urgency"] == "一般"
    page.select_option("#d-urgency", "特急")
    page.click("#correct")
    page.wait_for_selector("#status:has-text('已提交更正')")
    assert store.get(case_id)["urgency"] == "特急"
    page.select_option("#filter-urgency", "特急")
    page.click("#filters button")
    page.wait_for_selector(f"#queue tbody tr[data-case-id='{case_id}']")

    page.click(f"#queue tbody tr[data-case-id='{case_id}']")
    page.wait_for_selector(f"#case-line:has-text('工单 #{case_id}')")
    page.keyboard.press("Escape")
    page.keyboard.press("a")
    page.wait_for_selector("#status:has-text('已采纳建议')")
    assert store.get(case_id)["urgency"] == "特急"
    assert [event["action"] for event in store.get(case_id)["events"]].count("correct") == 1


def test_return_needs_a_reason(page, server):
    origin, _ = server
    take_in(page, origin, "老板拖欠工资三个月不给，过年回不了家")
    page.click("#return")
    page.wait_for_selector("#status.error:has-text('退单须填写原因')")
