// The webcam, MediaPipe Pose over its frames and the skeleton drawn over the (mirrored) preview.

import { createPoseSource } from "../pose/pose-source.js";

// Pairs of MediaPipe landmark indices drawn as bones (the body; the face is left out).
const BONES = [
  [11, 12], [11, 13], [13, 15], [12, 14], [14, 16], [11, 23], [12, 24], [23, 24],
  [23, 25], [25, 27], [24, 26], [26, 28], [27, 31], [28, 32], [15, 19], [16, 20],
];
const VISIBLE = 0.5;

export async function openCamera(video) {
  // Rejects with NotAllowedError (refused) or NotFoundError (no camera): the page says which.
  const stream = await navigator.mediaDevices.getUserMedia({
    video: { width: { ideal: 640 }, height: { ideal: 480 }, facingMode: "user" },
    audio: false,
  });
  video.srcObject = stream;
  await video.play();
  return stream;
}

export function drawSkeleton(canvas, landmarks) {
  const context = canvas.getContext("2d");
  context.clearRect(0, 0, canvas.width, canvas.height);
  if (!landmarks) return;
  const { width, height } = canvas;
  context.lineWidth = Math.max(3, width / 160);
  context.strokeStyle = "#00e5ff";
  context.fillStyle = "#ffea00";
  for (const [a, b] of BONES) {
    const p = landmarks[a];
    const q = landmarks[b];
    if (p.visibility < VISIBLE || q.visibility < VISIBLE) continue;
    context.beginPath();
    context.moveTo(p.x * width, p.y * height);
    context.lineTo(q.x * width, q.y * height);
    context.stroke();
  }
  for (const point of landmarks.slice(11)) {
    if (point.visibility < VISIBLE) continue;
    context.beginPath();
    context.arc(point.x * width, point.y * height, context.lineWidth, 0, 2 * Math.PI);
    context.fill();
  }
}

// Runs the pose model over the camera's frames one after the other, drawing each result.
// source: from createPoseSource (loaded once per page: the model takes a while to start).
// latest(): {landmarks (33, or null when nobody is visible), at (performance.now())}.
export function startPoseLoop({ source, video, canvas }) {
  let latest = { landmarks: null, at: 0 };
  let running = true;
  async function step() {
    if (!running) return;
    if (video.readyState >= 2 && video.videoWidth) {
      if (canvas.width !== video.videoWidth) {
        canvas.width = video.videoWidth;
        canvas.height = video.videoHeight;
      }
      const started = performance.now();
      const landmarks = await source.detect(video);
      if (!running) return;
      latest = { landmarks, at: performance.now() };
      drawSkeleton(canvas, landmarks);
      // Without a GPU a detection can take most of a second: rest as long as it took, so the
      // page (the player, the buttons) keeps at least half of the main thread.
      const took = latest.at - started;
      if (took > 50) return setTimeout(() => requestAnimationFrame(step), took);
    }
    requestAnimationFrame(step);
  }
  requestAnimationFrame(step);
  return {
    latest: () => latest,
    stop: () => {
      running = false;
      drawSkeleton(canvas, null);
    },
  };
}

let loading = null;

// MediaPipe's files are copied by `make frontend`, which goes on without npm: then pose.js is
// missing, the page has no window.Pose, and pose detection is unavailable (everything else works).
export const poseAvailable = () => typeof globalThis.Pose === "function";

export class PoseUnavailableError extends Error {
  constructor() {
    super("Pose detection is unavailable: this server has no MediaPipe files (run make frontend).");
    this.name = "PoseUnavailableError";
  }
}

// The page's one pose source, created at first use.
export function poseSource(assetBase) {
  if (!poseAvailable()) return Promise.reject(new PoseUnavailableError());
  loading ??= createPoseSource({ assetBase }).catch((error) => {
    loading = null;
    throw error;
  });
  return loading;
}

// The camera's current frame as a JPEG data URL, at most maxWidth wide (the frame as seen, not mirrored).
export function captureFrame(video, maxWidth = 640) {
  const scale = Math.min(1, maxWidth / video.videoWidth);
  const canvas = document.createElement("canvas");
  canvas.width = Math.round(video.videoWidth * scale);
  canvas.height = Math.round(video.videoHeight * scale);
  canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
  return canvas.toDataURL("image/jpeg", 0.8);
}
