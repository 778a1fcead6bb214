"""What a dancer reads when an analysis fails: a plain sentence for its code, in their language.

The analyzer's own detail (an upstream error, an exception's text) stays in `error_message` and in
the log, for the staff: it can name hosts, libraries and internals, and it means nothing to a dancer.
"""

_MESSAGES = {
    "gemini_unavailable": (
        "The AI coach could not be reached. Please try again in a moment.",
        "AIコーチに接続できませんでした。少し待ってからもう一度お試しください。",
    ),
    "gemini_timeout": (
        "The AI coach took too long to answer. Please try again in a moment.",
        "AIコーチの応答に時間がかかりすぎました。少し待ってからもう一度お試しください。",
    ),
    "gemini_rate_limited": (
        "The AI coach is busy right now. Please try again in a moment.",
        "AIコーチが混み合っています。少し待ってからもう一度お試しください。",
    ),
    "gemini_auth_failed": (
        "The AI coach is not available on this server right now; the pose analyzer still is.",
        "現在このサーバーではAIコーチを使えません。ポーズ分析は使えます。",
    ),
    "gemini_not_configured": (
        "The AI coach is not available on this server; the pose analyzer is.",
        "このサーバーではAIコーチを使えません。ポーズ分析は使えます。",
    ),
    "ai_budget_exhausted": (
        "The AI coach has reached its usage limit for now; the pose analyzer is still available.",
        "AIコーチは現在利用上限に達しています。ポーズ分析は使えます。",
    ),
    "gemini_bad_request": (
        "The AI coach could not analyse this frame.",
        "AIコーチはこのフレームを分析できませんでした。",
    ),
    "invalid_model_output": (
        "The AI coach's answer could not be used. Please try again.",
        "AIコーチの回答を利用できませんでした。もう一度お試しください。",
    ),
    "blocked_by_safety": (
        "The AI coach declined to analyse this frame.",
        "AIコーチはこのフレームの分析を控えました。",
    ),
    "frame_required": ("The AI coach needs the camera frame.", "AIコーチにはカメラのフレームが必要です。"),
    "invalid_frame": ("The camera frame could not be read.", "カメラのフレームを読み取れませんでした。"),
    "keypoints_required": (
        "The pose analyzer needs your body's landmarks from the camera.",
        "ポーズ分析にはカメラからの体のランドマークが必要です。",
    ),
    "keypoints_invalid": (
        "The body landmarks sent could not be used.",
        "送られた体のランドマークを使えませんでした。",
    ),
    "pose_not_visible": (
        "Both shoulders must be visible to the camera to score the pose.",
        "ポーズを採点するには両肩がカメラに映っている必要があります。",
    ),
    "reference_invalid": (
        "The instructor's reference for this video could not be used.",
        "この動画のお手本データを使えませんでした。",
    ),
    "storage_unavailable": (
        "The camera frame could not be read right now. Please try again in a moment.",
        "カメラのフレームを今は読み込めませんでした。少し待ってからもう一度お試しください。",
    ),
    "frame_missing": (
        "The camera frame of this analysis is no longer kept.",
        "この分析のカメラのフレームはもう保存されていません。",
    ),
    "too_many_attempts": (
        "The analysis failed after several attempts. Please try again later.",
        "何度か試しましたが分析できませんでした。後でもう一度お試しください。",
    ),
}
_DEFAULT = ("The analysis could not be completed.", "分析を完了できませんでした。")


def failure_message(code: str, language: str) -> str:
    english, japanese = _MESSAGES.get(code, _DEFAULT)
    return japanese if language == "ja" else english
