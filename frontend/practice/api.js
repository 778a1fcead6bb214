// The public API from the browser: JSON over fetch with the JWT access token, which lives in
// memory only. The refresh token stays in this tab's sessionStorage, so a reload keeps the dancer
// signed in and closing the tab forgets it (docs/frontend.md says why).

const REFRESH_KEY = "dancecoach.refresh";

export class ApiError extends Error {
  // status 0: the server could not be reached. code: the error shape's first code.
  constructor(status, body, retryAfter = null) {
    const first = body?.errors?.[0] ?? {};
    super(first.detail ?? `HTTP ${status}`);
    this.status = status;
    this.code = first.code ?? (status === 0 ? "offline" : `http_${status}`);
    this.attr = first.attr ?? null;
    this.retryAfter = retryAfter;
  }
}

export function createApi({ base = "/api/v1", onSignedOut = () => {} } = {}) {
  let accessToken = null;
  let refreshing = null;

  async function raw(method, path, { body, token, signal } = {}) {
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (token) headers.Authorization = `Bearer ${token}`;
    let response;
    try {
      response = await fetch(`${base}/${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
      });
    } catch (error) {
      if (error.name === "AbortError") throw error;
      throw new ApiError(0, null);
    }
    const text = await response.text();
    const data = text ? JSON.parse(text) : null;
    if (!response.ok) {
      const retryAfter = Number(response.headers.get("Retry-After")) || null;
      throw new ApiError(response.status, data, retryAfter);
    }
    return { status: response.status, data };
  }

  function keep(pair) {
    accessToken = pair.access_token;
    sessionStorage.setItem(REFRESH_KEY, pair.refresh_token);
  }

  function forget() {
    accessToken = null;
    sessionStorage.removeItem(REFRESH_KEY);
  }

  // One refresh at a time: parallel 401s share it. The old refresh token is blacklisted by the server.
  function refresh() {
    const refreshToken = sessionStorage.getItem(REFRESH_KEY);
    if (!refreshToken) return Promise.resolve(false);
    refreshing ??= raw("POST", "auth/refresh/", { body: { refresh_token: refreshToken } })
      .then(({ data }) => (keep(data), true))
      .catch((error) => {
        if (error.status === 0) throw error;
        forget();
        return false;
      })
      .finally(() => (refreshing = null));
    return refreshing;
  }

  // An authenticated call: on 401 the token is refreshed once and the call repeated; when that
  // fails too the dancer is signed out (onSignedOut) and the error goes on.
  async function call(method, path, options = {}) {
    try {
      return await raw(method, path, { ...options, token: accessToken });
    } catch (error) {
      if (error.status !== 401) throw error;
      if (await refresh()) return raw(method, path, { ...options, token: accessToken });
      forget();
      onSignedOut("expired");
      throw error;
    }
  }

  return {
    call,
    refresh,
    get accessToken() {
      return accessToken;
    },
    hasRefreshToken: () => Boolean(sessionStorage.getItem(REFRESH_KEY)),
    async login(email, password) {
      keep((await raw("POST", "auth/login/", { body: { email, password } })).data);
    },
    async register(email, username, password) {
      keep((await raw("POST", "auth/register/", { body: { email, username, password } })).data);
    },
    async logout() {
      const refreshToken = sessionStorage.getItem(REFRESH_KEY);
      forget();
      if (refreshToken) await raw("POST", "auth/logout/", { body: { refresh_token: refreshToken } }).catch(() => {});
    },
  };
}
