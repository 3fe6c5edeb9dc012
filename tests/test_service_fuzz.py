"""Property: whatever JSON arrives, the service answers below 500, with the one error
shape whenever it refuses."""
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import API_TOKEN

# Text, and text with a lone surrogate (JSON can escape one: "\udce5"), which st.text leaves out
SURROGATED = st.builds(lambda head, lone, tail: head + lone + tail, st.text(max_size=40),
                       st.characters(categories=("Cs",)), st.text(max_size=40))
TEXT = st.text(max_size=50) | SURROGATED
JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
                    lambda children: st.lists(children, max_size=4) | st.dictionaries(TEXT,
                                                                                    children, max_size=4),
                    max_leaves=12)
FIELDS = st.fixed_dictionaries({}, optional={
    "text": JSON | st.text(max_size=200) | SURROGATED, "external_id": JSON, "channel": JSON, "received_at": JSON,
    "caller": JSON, "location": JSON, "items": st.lists(JSON, max_size=3), "actor": st.text(min_size=1, max_size=20) | JSON, "reason": JSON,
    "department": JSON, "category": JSON, "subcategory": JSON, "urgency": JSON, "request_type": JSON,
    "model_dir": st.just("/nonexistent")})
PATHS = st.sampled_from(["/v1/predict", "/v1/triage", "/v1/triage/batch", "/v1/queue/claim",
                         "/v1/cases/1/claim", "/v1/cases/1/resolve", "/v1/cases/1/reassign",
                         "/v1/cases/1/feedback", "/v1/cases/2/escalate"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=PATHS, body=JSON | FIELDS)
def test_no_json_body_makes_a_server_error(client, path, body):
    client.post("/v1/triage", json={"text": "饭店油烟直排熏得不敢开窗"},
                headers={"Authorization": f"Bearer {API_TOKEN}"})  # a case 1 to act on
    answer = client.post(path, data=json.dumps(body), headers={"Authorization": f"Bearer {API_TOKEN}"})
    assert answer.status_code < 500
    if answer.status_code >= 400:
        assert set(answer.json) == {"error"} and answer.json["error"]["message"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=st.dictionaries(st.sampled_from(["department", "urgency", "status", "overdue", "limit", "offset"]),
                             st.text(max_size=12), max_size=4))
def test_no_queue_query_makes_a_server_error(client, query):
    answer = client.get("/v1/queue", query_string=query, headers={"Authorization": f"Bearer {API_TOKEN}"})
    assert answer.status_code in (200, 400)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(["/v1/predict", "/v1/triage"]),
       text=st.text(min_size=1, max_size=80) | SURROGATED)
def test_no_text_makes_a_server_error(client, path, text):
    answer = client.post(path, data=json.dumps({"text": text}), headers={"Authorization": f"Bearer {API_TOKEN}"})
    assert answer.status_code < 500
