import requests


def test_greets_the_given_name_as_a_json_string(service_url: str) -> None:
    response = requests.get(f"{service_url}/hello_world/greeting", params={"name": "John"}, timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == "Hello, John!"


def test_without_a_name_greets_the_default(service_url: str) -> None:
    for params in ({}, {"name": ""}, {"name": "   "}):
        response = requests.get(f"{service_url}/hello_world/greeting", params=params, timeout=5)
        assert response.json() == "Hello, World!", params


def test_trims_the_name(service_url: str) -> None:
    response = requests.get(f"{service_url}/hello_world/greeting", params={"name": "  John  "}, timeout=5)
    assert response.json() == "Hello, John!"


def test_unicode_names_round_trip(service_url: str) -> None:
    for name in ("José", "Łukasz", "Дмитрий", "山田", "😀"):
        response = requests.get(f"{service_url}/hello_world/greeting", params={"name": name}, timeout=5)
        assert response.json() == f"Hello, {name}!"
