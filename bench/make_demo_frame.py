"""Write a demo dancer frame from the synthetic choreography, for the README's curl example.

    python bench/make_demo_frame.py --time 2.0 --out-dir /tmp/demo

writes frame.jpg (the dancer's skeleton drawn as a webcam frame), keypoints.json (the 33
landmarks as the API takes them) and reference.json (the instructor's track:
{"fps": 30, "frames": [[[x, y, z, visibility] x 33], ...]}). The dancer is the choreography's
pose at --time, --late seconds behind, with a little landmark noise.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from analyses.analyzers import synthetic


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write frame.jpg, keypoints.json and reference.json.")
    parser.add_argument("--time", type=float, default=2.0, help="video time of the frame, seconds")
    parser.add_argument("--out-dir", type=Path, default=Path("demo"))
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the reference track")
    parser.add_argument("--fps", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0, help="choreography seed")
    parser.add_argument("--late", type=float, default=0.0, help="how far behind the instructor the dancer is, s")
    parser.add_argument("--noise", type=float, default=0.005, help="landmark noise, frame units")
    parser.add_argument("--mirror", action="store_true", help="the dancer mirrors the instructor")
    args = parser.parse_args(argv)

    track = synthetic.choreography_track(fps=args.fps, seconds=args.seconds, seed=args.seed)
    dancer = synthetic.pose_from_angles(**synthetic.choreography_params(args.time - args.late, seed=args.seed))
    dancer[:, :2] += np.random.default_rng(args.seed).normal(0.0, args.noise, (len(dancer), 2))
    if args.mirror:
        from analyses.analyzers.pose import mirror_landmarks

        dancer = mirror_landmarks(dancer)

    out = args.out_dir
    out.mkdir(parents=True, exist_ok=True)
    (out / "frame.jpg").write_bytes(synthetic.render_pose_jpeg(dancer))
    keypoints = [{k: round(v, 5) for k, v in d.items()} for d in synthetic.keypoints_to_dicts(dancer)]
    (out / "keypoints.json").write_text(json.dumps(keypoints))
    frames = np.round(track.astype(np.float64), 5).tolist()
    (out / "reference.json").write_text(json.dumps({"fps": args.fps, "frames": frames}))
    print(f"wrote {out / 'frame.jpg'}, {out / 'keypoints.json'}, {out / 'reference.json'} ({len(track)} frames)")


if __name__ == "__main__":
    main()
