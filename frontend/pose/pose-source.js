// The dancer's 33 MediaPipe Pose landmarks from an image, a canvas or a video frame, in the
// browser. The practice page and the test fixtures use this one source, so both see the same
// model with the same options. Load @mediapipe/pose's pose.js (a classic script) first.

export const POSE_OPTIONS = Object.freeze({
  modelComplexity: 1,
  smoothLandmarks: true,
  enableSegmentation: false,
  minDetectionConfidence: 0.5,
  minTrackingConfidence: 0.5,
});

// assetBase: the URL of the @mediapipe/pose package folder (its .wasm, .data and .tflite files).
export async function createPoseSource({ assetBase, options = {} }) {
  const pose = new globalThis.Pose({ locateFile: (file) => `${assetBase}/${file}` });
  pose.setOptions({ ...POSE_OPTIONS, ...options });
  let latest = null;
  pose.onResults((results) => {
    latest = results.poseLandmarks ?? null;
  });
  await pose.initialize();

  return {
    // 33 {x, y, z, visibility} as MediaPipe gives them, or null when it finds no body.
    // still: the image is not the next frame of a video, so nothing is tracked from the last one.
    async detect(image, { still = false } = {}) {
      if (still) pose.reset();
      latest = null;
      await pose.send({ image });
      return latest && latest.map(({ x, y, z, visibility }) => ({ x, y, z, visibility }));
    },
    close: () => pose.close(),
  };
}
