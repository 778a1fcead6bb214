// The choreography player behind one small interface, so the practice page does not care whether
// YouTube or a local <video> plays it (the browser tests use the latter: YouTube is unreachable there).
//
//   { ready: Promise, play(), pause(), playing(), currentTime(), seek(seconds), duration(),
//     onStateChange(callback), destroy() }

export function createVideoElementPlayer(container, src) {
  const video = document.createElement("video");
  video.src = src;
  video.controls = true;
  video.playsInline = true;
  video.preload = "auto";
  video.className = "player-media";
  container.replaceChildren(video);
  const listeners = [];
  for (const event of ["play", "pause", "ended"]) {
    video.addEventListener(event, () => listeners.forEach((callback) => callback(!video.paused)));
  }
  return {
    ready: new Promise((resolve, reject) => {
      video.addEventListener("loadedmetadata", resolve, { once: true });
      video.addEventListener("error", () => reject(new Error("video_unavailable")), { once: true });
    }),
    play: () => video.play(),
    pause: () => video.pause(),
    playing: () => !video.paused && !video.ended,
    currentTime: () => video.currentTime,
    seek: (seconds) => {
      video.currentTime = seconds;
    },
    duration: () => video.duration,
    onStateChange: (callback) => listeners.push(callback),
    destroy: () => container.replaceChildren(),
  };
}

let apiLoading = null;

function youtubeApi() {
  apiLoading ??= new Promise((resolve, reject) => {
    if (globalThis.YT?.Player) return resolve(globalThis.YT);
    globalThis.onYouTubeIframeAPIReady = () => resolve(globalThis.YT);
    const script = document.createElement("script");
    script.src = "https://www.youtube.com/iframe_api";
    script.onerror = () => {
      apiLoading = null;
      reject(new Error("youtube_unreachable"));
    };
    document.head.append(script);
  });
  return apiLoading;
}

export function createYouTubePlayer(container, videoId) {
  const mount = document.createElement("div");
  container.replaceChildren(mount);
  const listeners = [];
  let player = null;
  let state = -1;
  const ready = youtubeApi().then(
    (YT) =>
      new Promise((resolve) => {
        player = new YT.Player(mount, {
          videoId,
          width: "100%",
          height: "100%",
          playerVars: { playsinline: 1, rel: 0, modestbranding: 1 },
          events: {
            onReady: resolve,
            onStateChange: (event) => {
              state = event.data;
              listeners.forEach((callback) => callback(state === YT.PlayerState.PLAYING));
            },
          },
        });
      }),
  );
  return {
    ready,
    play: () => player?.playVideo(),
    pause: () => player?.pauseVideo(),
    playing: () => state === 1,
    currentTime: () => player?.getCurrentTime() ?? 0,
    seek: (seconds) => player?.seekTo(seconds, true),
    duration: () => player?.getDuration() ?? 0,
    onStateChange: (callback) => listeners.push(callback),
    destroy: () => {
      player?.destroy();
      container.replaceChildren();
    },
  };
}
