// Staff: a reference pose track from a video file of the choreography. The file plays in the
// browser; at each of its frames (requestVideoFrameCallback gives the frame's own media time, so the
// track has the video's frame rate) the video pauses, MediaPipe Pose finds the instructor's 33
// landmarks, the skeleton is drawn, and play resumes. The track, in the timed format
// ([{t, landmarks}], frames without a body left out), goes to PUT videos/{id}/reference/.

import { ApiError, createApi } from "./api.js";
import { drawSkeleton, poseSource } from "./camera.js";

const $ = (id) => document.getElementById(id);
const say = (text, kind = "info") => Object.assign($("status"), { textContent: text }).setAttribute("data-kind", kind);
const api = createApi({ onSignedOut: () => show("auth") });

function show(section) {
  $("auth").hidden = section !== "auth";
  $("record").hidden = section !== "record";
}

async function signIn(event) {
  event.preventDefault();
  try {
    await api.login($("email").value.trim(), $("password").value);
    const { data: me } = await api.call("GET", "auth/me/");
    say(`Signed in as ${me.email}. Only staff can upload a reference track.`);
    show("record");
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    say(error.status === 0 ? "The server cannot be reached." : error.message, "error");
  }
}

// Plays the video through once, pausing at every presented frame for the pose model.
function trackOf(video, source, canvas) {
  const track = [];
  let frames = 0;
  return new Promise((resolve, reject) => {
    // The next frame can arrive before play() has settled: its pause() then rejects that play()
    // with an AbortError, which is this loop working, not a failure (only real errors stop it).
    const play = () =>
      video.play().catch((error) => {
        if (error.name !== "AbortError") reject(error);
      });
    async function onFrame(_, metadata) {
      video.pause();
      frames += 1;
      if (canvas.width !== video.videoWidth) {
        canvas.width = video.videoWidth;
        canvas.height = video.videoHeight;
      }
      const landmarks = await source.detect(video);
      drawSkeleton(canvas, landmarks);
      if (landmarks) track.push({ t: Math.round(metadata.mediaTime * 1000) / 1000, landmarks });
      $("frames").textContent = String(frames);
      $("found").textContent = String(track.length);
      if (video.ended) return resolve(track);
      video.requestVideoFrameCallback(onFrame);
      play();
    }
    video.addEventListener("ended", () => resolve(track), { once: true });
    video.addEventListener("error", () => reject(new Error("The file cannot be played by this browser.")), { once: true });
    video.requestVideoFrameCallback(onFrame);
    play();
  });
}

async function record(event) {
  event.preventDefault();
  const file = $("file").files[0];
  if (!file) return;
  $("record-start").disabled = true;
  try {
    const { data: videoRow } = await api.call("POST", "videos/", { body: { youtube_url: $("youtube-url").value.trim() } });
    say("Loading the pose model…");
    const source = await poseSource(document.body.dataset.mediapipe);
    const video = $("source");
    video.src = URL.createObjectURL(file);
    say("Recording: the video plays frame by frame…");
    const track = await trackOf(video, source, $("skeleton"));
    if (track.length < 2) return say("No body found in the file's frames: nothing was uploaded.", "error");
    const filename = encodeURIComponent(file.name);
    const { status } = await api.call("PUT", `videos/${videoRow.id}/reference/?filename=${filename}`, { body: track });
    say(`${status === 201 ? "Stored" : "Replaced"} the reference track of video ${videoRow.id}: ${track.length} frames.`);
    document.body.dataset.uploaded = String(videoRow.id);
  } catch (error) {
    if (!(error instanceof ApiError)) return say(error.message, "error");
    say(error.status === 403 ? "Only staff can upload a reference track." : `${error.message} (${error.code})`, "error");
  } finally {
    $("record-start").disabled = false;
  }
}

$("auth-form").addEventListener("submit", signIn);
$("record-form").addEventListener("submit", record);
document.body.dataset.ready = "true";
