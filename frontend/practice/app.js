// The practice page: the reference client of the public API (docs/frontend.md walks through it).

import { ApiError, createApi } from "./api.js";
import { captureFrame, openCamera, poseAvailable, poseSource, startPoseLoop } from "./camera.js";
import { language, setLanguage, t } from "./i18n.js";
import { createLive } from "./live.js";
import { createVideoElementPlayer, createYouTubePlayer } from "./player.js";
import { showReport } from "./report.js";

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
// Seconds between frames: docs/api.md asks for 3 to 5; ?cadence= stays inside that range.
const CADENCE = Math.min(5, Math.max(3, Number(params.get("cadence")) || 4));
// Landmarks older than this are not the frame being sent (a CPU-only detection can take a second).
const FRESH_MS = 3000;

const state = { user: null, video: null, session: null, live: null, pose: null, player: null, timer: null,
  holdUntil: 0, analyses: new Map() };

const api = createApi({ onSignedOut: (why) => signedOut(why) });

function say(text, kind = "info") {
  const status = $("status");
  status.textContent = text;
  status.dataset.kind = kind;
}

function show(section) {
  for (const id of ["auth", "pick", "practice", "report"]) $(id).hidden = !section.includes(id);
}

// --- Sign in, register, sign out ------------------------------------------------------------

let registering = false;

function authMode(register) {
  registering = register;
  $("username-row").hidden = !register;
  $("username").required = register;
  $("password").autocomplete = register ? "new-password" : "current-password";
  for (const id of ["auth-title", "auth-submit"]) $(id).dataset.i18n = register ? "register" : "signIn";
  $("auth-switch").dataset.i18n = register ? "haveAccount" : "noAccount";
  setLanguage(language());
}

function explain(error) {
  if (error.status === 0) return t("offline");
  if (error.code === "invalid_credentials") return t("badCredentials");
  return error.message;
}

async function submitAuth(event) {
  event.preventDefault();
  const email = $("email").value.trim();
  const password = $("password").value;
  try {
    if (registering) await api.register(email, $("username").value.trim(), password);
    else await api.login(email, password);
    $("password").value = "";
    await signedIn();
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    say(explain(error), "error");
  }
}

async function signedIn() {
  const { data: me } = await api.call("GET", "auth/me/");
  state.user = me;
  $("who").textContent = me.username || me.email;
  $("sign-out").hidden = false;
  if (params.get("lang") === null) $("language").value = setLanguage(me.language);
  say("");
  show(["pick"]);
  loadPlaylists();
}

function signedOut(why) {
  stopPractice();
  state.user = null;
  $("who").textContent = "";
  $("sign-out").hidden = true;
  authMode(false);
  show(["auth"]);
  say(why === "expired" ? t("expired") : "", why === "expired" ? "error" : "info");
}

// --- Choosing a video --------------------------------------------------------------------------

function videoButton(video, label) {
  const item = document.createElement("li");
  const button = document.createElement("button");
  button.type = "button";
  button.className = "link";
  button.textContent = label || video.title || video.url;
  button.addEventListener("click", () => startPractice(video.url));
  item.append(button);
  return item;
}

async function playlistInto(list, scope) {
  const path = scope === "public" ? "playlists/?scope=public&limit=20" : "playlists/?limit=20";
  const { data } = await api.call("GET", path);
  list.replaceChildren();
  if (!data.results.length) list.append(Object.assign(document.createElement("li"), { textContent: t("noPlaylists") }));
  for (const playlist of data.results) {
    const item = document.createElement("li");
    const details = document.createElement("details");
    const summary = document.createElement("summary");
    summary.textContent = `${playlist.name} (${playlist.item_count})`;
    const videos = document.createElement("ul");
    details.append(summary, videos);
    details.addEventListener("toggle", async () => {
      if (!details.open || videos.childElementCount) return;
      const { data: detail } = await api.call("GET", `playlists/${playlist.id}/`);
      for (const entry of detail.videos) videos.append(videoButton(entry.video, entry.title));
    });
    item.append(details);
    list.append(item);
  }
}

async function loadPlaylists() {
  try {
    await Promise.all([playlistInto($("my-playlists"), "mine"), playlistInto($("public-playlists"), "public")]);
  } catch (error) {
    if (error instanceof ApiError && error.status !== 401) say(explain(error), "error");
  }
}

// --- Practice ----------------------------------------------------------------------------------

function makePlayer(video) {
  // ?player=file&src=/static/...: a same-origin media file in a <video> (the browser tests; YouTube
  // cannot be reached there), behind the same interface as the YouTube player.
  const src = params.get("src");
  if (params.get("player") === "file" && src && new URL(src, location.href).origin === location.origin) {
    return createVideoElementPlayer($("player"), src);
  }
  return createYouTubePlayer($("player"), video.youtube_id);
}

async function startPractice(youtubeUrl) {
  say("");
  let video;
  try {
    ({ data: video } = await api.call("POST", "videos/", { body: { youtube_url: youtubeUrl } }));
  } catch (error) {
    if (error instanceof ApiError && error.status === 400) return say(t("invalidUrl"), "error");
    return error instanceof ApiError && error.status !== 401 ? say(explain(error), "error") : undefined;
  }
  state.video = video;
  state.session = null;
  state.analyses.clear();
  $("results").replaceChildren();
  $("count").textContent = "0";
  renderFeedback(null);
  show(["practice"]);
  state.player = makePlayer(video);
  state.player.onStateChange((playing) => ($("play").dataset.i18n = playing ? "pause" : "start", setLanguage(language())));
  state.player.ready.then(() => ($("play").disabled = false), () => say(t("youtubeUnreachable"), "error"));
  state.live = createLive({
    api,
    allowSocket: params.get("live") !== "poll",
    onUpdate: analysisUpdated,
    onMode: (mode) => ($("live-mode").textContent = t(mode === "socket" ? "liveSocket" : "livePoll")),
  });
  await startCamera();
  clearInterval(state.timer);
  state.timer = setInterval(tick, CADENCE * 1000);
}

async function startCamera() {
  try {
    await openCamera($("camera"));
  } catch {
    return say(t("cameraRefused"), "error");
  }
  // The camera and the video still work for dancing along; no frame is sent without landmarks.
  if (!poseAvailable()) return say(t("poseUnavailable"), "error");
  say(t("loadingPose"));
  try {
    const source = await poseSource(document.body.dataset.mediapipe);
    state.pose = startPoseLoop({ source, video: $("camera"), canvas: $("skeleton") });
  } catch (error) {
    return say(`${t("loadingPose")} ${error.message}`, "error");
  }
  say(`${t("poseReady")} ${t("waitingFirst", { n: CADENCE })}`);
}

function stopPractice() {
  clearInterval(state.timer);
  state.timer = null;
  state.pose?.stop();
  state.pose = null;
  state.live?.close();
  state.live = null;
  state.player?.destroy();
  state.player = null;
  const stream = $("camera").srcObject;
  stream?.getTracks().forEach((track) => track.stop());
  $("camera").srcObject = null;
}

// One frame, every CADENCE seconds while the video plays: never while paused, never without a body.
async function tick() {
  if (!state.player?.playing() || !state.pose || Date.now() < state.holdUntil) return;
  const { landmarks, at } = state.pose.latest();
  if (performance.now() - at > FRESH_MS) return;
  if (!landmarks) return say(t("noPerson"), "warn");
  const body = {
    youtube_url: state.video.url,
    timestamp: Math.round(state.player.currentTime() * 1000) / 1000,
    user_frame: captureFrame($("camera")),
    keypoints: landmarks,
    language: language(),
  };
  if (state.session) body.session_id = state.session;
  try {
    const { data } = await api.call("POST", "analyses/", { body });
    if (data.session_id && data.session_id !== state.session) {
      state.session = data.session_id;
      state.live?.subscribe(state.session);
    }
    say(t("pending"));
    state.live?.track(data);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    if (error.status === 429) {
      const wait = error.retryAfter ?? CADENCE;
      state.holdUntil = Date.now() + wait * 1000;
      say(t("throttled", { n: wait }), "warn");
    } else if (error.code === "session_ended") {
      state.session = null;
    } else if (error.status !== 401) {
      say(explain(error), "error");
    }
  }
}

const BANDS = [
  [80, "great", "bandGreat"],
  [60, "good", "bandGood"],
  [0, "work", "bandWork"],
];

function renderFeedback(analysis) {
  const score = $("score");
  if (!analysis) {
    score.textContent = "–";
    $("band").textContent = "";
    delete score.dataset.band;
    for (const id of ["good", "improve", "advice"]) $(id).textContent = "";
    return;
  }
  const [, band, label] = BANDS.find(([floor]) => analysis.score >= floor);
  score.textContent = String(analysis.score);
  score.dataset.band = band;
  $("band").textContent = t(label);
  const short = analysis.short ?? {};
  $("good").textContent = short.good_points?.[0] ?? analysis.good_points?.[0] ?? "";
  $("improve").textContent = short.improvements?.[0] ?? analysis.improvements?.[0] ?? "";
  $("advice").textContent = short.advice ?? analysis.advice ?? "";
}

function analysisUpdated(analysis) {
  if (state.video && analysis.video?.id !== state.video.id) return;
  const known = state.analyses.get(analysis.id);
  if (known && ["completed", "failed"].includes(known.status)) return;
  state.analyses.set(analysis.id, analysis);
  let row = document.querySelector(`[data-analysis="${analysis.id}"]`);
  if (!row) {
    row = document.createElement("li");
    row.dataset.analysis = analysis.id;
    $("results").prepend(row);
  }
  row.dataset.status = analysis.status;
  const at = `${analysis.timestamp.toFixed(1)} s`;
  if (analysis.status === "completed") {
    row.textContent = `${at}: ${analysis.score}`;
    renderFeedback(analysis);
    say("");
  } else if (analysis.status === "failed") {
    // The server's message is already in the dancer's language; the code says which failure.
    row.textContent = `${at}: ${analysis.error.code}`;
    say(t("failed", { message: analysis.error.message, code: analysis.error.code }), "error");
  } else {
    row.textContent = `${at}: ${t("pending")}`;
  }
  $("count").textContent = String([...state.analyses.values()].filter((a) => a.status === "completed").length);
}

async function endPractice() {
  const session = state.session;
  const video = state.video;
  state.player?.pause();
  clearInterval(state.timer);
  if (session) await api.call("POST", `sessions/${session}/end/`).catch(() => {});
  stopPractice();
  show(["pick", "report"]);
  await showReport({ api, session, video, t, onLoop: (start, end) => loopStretch(video, start, end) });
}

// The report's "practise this moment": back to the player, looping start..end.
async function loopStretch(video, start, end) {
  await startPractice(video.url);
  await state.player.ready;
  state.player.seek(start);
  state.player.play();
  const loop = setInterval(() => {
    if (!state.player) return clearInterval(loop);
    if (state.player.currentTime() >= end) state.player.seek(start);
  }, 250);
}

// --- Start-up ----------------------------------------------------------------------------------

function wire() {
  $("auth-form").addEventListener("submit", submitAuth);
  $("auth-switch").addEventListener("click", () => authMode(!registering));
  $("sign-out").addEventListener("click", async () => (await api.logout(), signedOut("")));
  $("language").addEventListener("change", (event) => {
    setLanguage(event.target.value);
    if (state.user) api.call("PATCH", "auth/me/", { body: { language: language() } }).catch(() => {});
  });
  $("url-form").addEventListener("submit", (event) => (event.preventDefault(), startPractice($("youtube-url").value.trim())));
  $("play").addEventListener("click", () => (state.player?.playing() ? state.player.pause() : state.player?.play()));
  $("end").addEventListener("click", endPractice);
  $("another").addEventListener("click", () => (stopPractice(), show(["pick"])));
}

async function main() {
  wire();
  $("language").value = setLanguage(params.get("lang") ?? (navigator.language.startsWith("ja") ? "ja" : "en"));
  show(["auth"]);
  if (api.hasRefreshToken()) {
    try {
      if (await api.refresh()) await signedIn();
    } catch {
      say(t("offline"), "error");
    }
  }
  if (!poseAvailable() && !state.user) say(t("poseUnavailable"), "error");
  document.body.dataset.ready = "true";
}

main();
