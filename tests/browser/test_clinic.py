"""The therapist's flow in the browser: a new patient, a session with its recording, a 10MWT, the progress plot."""

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from exohub.control.virtual import synthetic_hip_gait
from exohub.signals.io import write_recording
from tests.browser.conftest import DEMO_PASSWORD, demo_email, login


@pytest.fixture(scope="module")
def recording_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("upload") / "session-walk.csv"
    write_recording(synthetic_hip_gait(90.0, seed=11), path)
    return path


def test_therapist_creates_patient_uploads_recording_enters_10mwt(
    page: Page, live_server: str, recording_csv: Path
) -> None:
    login(page, live_server, demo_email("therapist.jp"), DEMO_PASSWORD)
    page.get_by_role("link", name="Patients", exact=True).click()
    page.get_by_role("link", name="New patient").click()
    page.get_by_label("Full name").fill("Yamada Taro")
    page.get_by_label("Date of birth").fill("1957-03-21")
    page.get_by_label("Sex").select_option("male")
    page.get_by_label("Condition (ICD-10)").fill("I63.9")
    page.get_by_label("Affected side").select_option("right")
    page.get_by_role("button", name="Create patient").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Yamada Taro")

    page.get_by_role("link", name="New session").click()
    page.get_by_label("Assistance level (%)").fill("60")
    page.get_by_label("Recording").set_input_files(str(recording_csv))
    page.get_by_role("button", name="Save session").click()
    expect(page.get_by_role("heading", name="What the recording shows")).to_be_visible(timeout=30_000)
    steps = page.locator("dl.metrics div").filter(has=page.locator("dt", has_text="Steps")).locator("dd")
    assert int(steps.inner_text()) > 100  # 90 s of walking at about 1.1 s per stride
    expect(page.locator("figure.plot svg[role=img]").first).to_be_visible()

    page.get_by_role("link", name="Yamada Taro").click()
    for measured_on, speed in (("2026-09-01", "0.41"), ("2026-10-20", "0.60")):
        form = page.get_by_role("form", name="Enter an outcome measure")
        form.get_by_label("Measure").select_option("10mwt_comfortable")
        form.get_by_label("Result").fill(speed)
        form.get_by_label("Date").fill(measured_on)
        form.get_by_role("button", name="Save measurement").click()
    progress = page.get_by_role("region", name="Progress")
    expect(progress.get_by_text("meaningful improvement")).to_be_visible()
    plot = progress.locator("svg[role=img]").filter(has_text="10-metre").first
    expect(plot).to_be_visible()
    assert "0.6" in (plot.locator("title").first.text_content() or "")


def test_wrong_outcome_value_is_refused_with_the_field_named(page: Page, live_server: str) -> None:
    login(page, live_server, demo_email("therapist.jp"), DEMO_PASSWORD)
    page.goto(f"{live_server}/clinic/patients")
    page.locator("table a").first.click()
    form = page.get_by_role("form", name="Enter an outcome measure")
    form.get_by_label("Measure").select_option("tug")
    form.get_by_label("Result").fill("-3")
    form.get_by_role("button", name="Save measurement").click()
    expect(page.get_by_role("alert")).to_contain_text("Timed Up and Go")


def test_therapist_is_refused_another_clinics_patient(page: Page, live_server: str) -> None:
    login(page, live_server, demo_email("therapist.kr"), DEMO_PASSWORD)
    token = page.request.post(
        f"{live_server}/api/v1/auth/token", form={"username": demo_email("therapist.jp"), "password": DEMO_PASSWORD}
    ).json()["access_token"]
    japanese = page.request.get(f"{live_server}/api/v1/clinic/patients", headers={"Authorization": f"Bearer {token}"})
    patient_id = japanese.json()["items"][0]["id"]
    response = page.goto(f"{live_server}/clinic/patients/{patient_id}")
    assert response is not None and response.status == 404
    assert japanese.json()["items"][0]["full_name"] not in page.content()
