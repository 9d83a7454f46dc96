"""Register, log in, use the token: the main path through the API."""

import httpx

API = "/api/v1"


async def test_health(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{API}/health")
    assert response.status_code == 200
    assert response.json()["status"] == "healthy"
    assert response.headers["X-Request-ID"]


async def test_register_login_and_read_me(client: httpx.AsyncClient) -> None:
    body = {"email": "Learner@Example.com", "password": "a-long-password", "full_name": "Lea"}
    registered = await client.post(f"{API}/auth/register", json=body)
    assert registered.status_code == 201
    assert registered.json()["email"] == "learner@example.com"
    assert registered.json()["role"] == "user"

    again = await client.post(f"{API}/auth/register", json=body)
    assert again.status_code == 409

    login = await client.post(
        f"{API}/auth/login",
        data={"username": "learner@example.com", "password": "a-long-password"},
    )
    assert login.status_code == 200
    token = login.json()["access_token"]

    me = await client.get(f"{API}/users/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.json()["full_name"] == "Lea"


async def test_wrong_password_and_no_token(client: httpx.AsyncClient) -> None:
    login = await client.post(
        f"{API}/auth/login", data={"username": "nobody@example.com", "password": "whatever-1"}
    )
    assert login.status_code == 401
    assert login.json()["request_id"] == login.headers["X-Request-ID"]

    me = await client.get(f"{API}/users/me")
    assert me.status_code == 401


async def test_a_plain_user_cannot_list_users(client: httpx.AsyncClient) -> None:
    body = {"email": "plain@example.com", "password": "a-long-password", "full_name": "Plain"}
    await client.post(f"{API}/auth/register", json=body)
    login = await client.post(
        f"{API}/auth/login", data={"username": body["email"], "password": body["password"]}
    )
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    response = await client.get(f"{API}/users", headers=headers)
    assert response.status_code == 403
