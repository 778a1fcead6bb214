// Analysis results as they change: the WebSocket (/ws/analyses/) when it opens, else
// GET analyses/{id}/?wait=10 for each pending analysis. Every update goes to onUpdate.

const FINAL = new Set(["completed", "failed"]);
// With the socket open, a pending analysis with no news for this long is asked for directly.
const SOCKET_GRACE_MS = 12000;

export function createLive({ api, onUpdate, onMode, allowSocket = true }) {
  let socket = null;
  let open = false;
  let closed = false;
  let retriedAuth = false;
  const waiting = new Map(); // id -> timer of the poll fallback

  function settle(analysis) {
    onUpdate(analysis);
    if (FINAL.has(analysis.status)) {
      clearTimeout(waiting.get(analysis.id));
      waiting.delete(analysis.id);
    }
  }

  function connect() {
    if (!allowSocket || closed || !("WebSocket" in globalThis) || !api.accessToken) return onMode("poll");
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    try {
      // The token as a subprotocol keeps it out of URLs and access logs.
      socket = new WebSocket(`${scheme}://${location.host}/ws/analyses/`, ["bearer", api.accessToken]);
    } catch {
      return onMode("poll");
    }
    socket.onopen = () => {
      open = true;
      retriedAuth = false;
      onMode("socket");
    };
    socket.onmessage = (event) => {
      const message = JSON.parse(event.data);
      if (message.type === "analysis.updated") settle(message.analysis);
    };
    socket.onclose = async (event) => {
      const wasOpen = open;
      open = false;
      socket = null;
      if (closed) return;
      onMode("poll");
      waiting.forEach((_, id) => poll(id));
      if (event.code === 4401 && !retriedAuth) {
        retriedAuth = true;
        if (await api.refresh().catch(() => false)) connect();
      } else if (wasOpen) {
        setTimeout(connect, 3000);
      }
    };
  }

  async function poll(id) {
    for (let round = 0; round < 6 && !closed; round++) {
      try {
        const { data } = await api.call("GET", `analyses/${id}/?wait=10`);
        settle(data);
        if (FINAL.has(data.status)) return;
      } catch (error) {
        if (error.status !== 0) return;
        await new Promise((resolve) => setTimeout(resolve, 2000));
      }
    }
  }

  // A submitted analysis: final already (201), or watched until it is.
  function track(analysis) {
    settle(analysis);
    if (FINAL.has(analysis.status)) return;
    if (open) {
      waiting.set(analysis.id, setTimeout(() => poll(analysis.id), SOCKET_GRACE_MS));
    } else {
      waiting.set(analysis.id, null);
      poll(analysis.id);
    }
  }

  connect();
  return {
    track,
    subscribe(sessionId) {
      if (open) socket.send(JSON.stringify({ action: "subscribe", session_id: sessionId }));
    },
    close() {
      closed = true;
      waiting.forEach((timer) => clearTimeout(timer));
      socket?.close();
    },
  };
}
