// The example of docs/api.md, compiled by `make client` (tsc --noEmit) so it stays true to the API.
declare const accessToken: string;
declare const video: HTMLVideoElement;
declare const frame: string; // the webcam frame: base64 JPEG
declare const landmarks: { x: number; y: number; z: number; visibility: number }[]; // MediaPipe's 33

// --- example
import type { paths } from "./schema";
type SubmitFrame = paths["/api/v1/analyses/"]["post"];
const body: SubmitFrame["requestBody"]["content"]["application/json"] = { youtube_url: "https://youtu.be/dQw4w9WgXcQ", timestamp: video.currentTime, user_frame: frame, keypoints: landmarks };
const response = await fetch("/api/v1/analyses/", { method: "POST", headers: { "Content-Type": "application/json", Authorization: `Bearer ${accessToken}` }, body: JSON.stringify(body) });
const analysis: SubmitFrame["responses"]["202"]["content"]["application/json"] = await response.json(); // then GET analyses/{id}/?wait=10 until analysis.status is final
// --- end
