"""Feedback phrases of the pose analyzer, Japanese and English, long and short forms.

Every entry is (long, short). Placeholders: {side} (the dancer's own left or right),
{part} (a body-part name from PART_NAMES), {fix} (an improvement's long form, advice only),
{sec} (seconds, one decimal). Japanese short forms stay within SHORT_LIMITS once filled in,
so they fit on screen while dancing (the tests check every combination).
"""

from __future__ import annotations

# Characters, after filling in placeholders, for the Japanese short forms.
SHORT_LIMITS = {"good_points": 15, "improvements": 15, "advice": 20}

SIDES = {
    "ja": {"left": "左", "right": "右"},
    "en": {"left": "left", "right": "right"},
}

# The stable body-part set that details["weakest"] and the stats use.
PART_NAMES = {
    "ja": {
        "left_arm": "左腕",
        "right_arm": "右腕",
        "left_leg": "左脚",
        "right_leg": "右脚",
        "torso": "上半身",
        "head": "頭",
    },
    "en": {
        "left_arm": "left arm",
        "right_arm": "right arm",
        "left_leg": "left leg",
        "right_leg": "right leg",
        "torso": "upper body",
        "head": "head",
    },
}

IMPROVEMENTS = {
    "arm_raise": {
        "ja": ("{side}腕をもっと高く上げましょう", "{side}腕をもっと上げて"),
        "en": ("Raise your {side} arm higher", "Raise {side} arm"),
    },
    "arm_lower": {
        "ja": ("{side}腕をもう少し下げましょう", "{side}腕を下げて"),
        "en": ("Lower your {side} arm", "Lower {side} arm"),
    },
    "arm_open": {
        "ja": ("{side}腕を外側へ開きましょう", "{side}腕を外へ開いて"),
        "en": ("Open your {side} arm out to the side", "Open {side} arm out"),
    },
    "arm_close": {
        "ja": ("{side}腕を体の内側へ寄せましょう", "{side}腕を内側へ"),
        "en": ("Bring your {side} arm in across your body", "Bring {side} arm in"),
    },
    "hand_raise": {
        "ja": ("{side}手をもっと高く上げましょう", "{side}手を上げて"),
        "en": ("Raise your {side} hand higher", "Raise {side} hand"),
    },
    "hand_lower": {
        "ja": ("{side}手をもう少し下げましょう", "{side}手を下げて"),
        "en": ("Lower your {side} hand", "Lower {side} hand"),
    },
    "hand_out": {
        "ja": ("{side}手を外側へ伸ばしましょう", "{side}手を外へ"),
        "en": ("Move your {side} hand further out", "Move {side} hand out"),
    },
    "hand_in": {
        "ja": ("{side}手を内側へ寄せましょう", "{side}手を内側へ"),
        "en": ("Bring your {side} hand in", "Bring {side} hand in"),
    },
    "elbow_bend": {
        "ja": ("{side}ひじをもっと曲げましょう", "{side}ひじを曲げて"),
        "en": ("Bend your {side} elbow more", "Bend {side} elbow"),
    },
    "elbow_straighten": {
        "ja": ("{side}ひじをしっかり伸ばしましょう", "{side}ひじを伸ばして"),
        "en": ("Straighten your {side} elbow", "Straighten {side} elbow"),
    },
    "leg_raise": {
        "ja": ("{side}脚をもっと高く上げましょう", "{side}脚を上げて"),
        "en": ("Lift your {side} leg higher", "Lift {side} leg"),
    },
    "leg_lower": {
        "ja": ("{side}脚をもう少し下ろしましょう", "{side}脚を下ろして"),
        "en": ("Lower your {side} leg", "Lower {side} leg"),
    },
    "leg_open": {
        "ja": ("{side}脚を外側へ開きましょう", "{side}脚を外へ開いて"),
        "en": ("Open your {side} leg out to the side", "Open {side} leg out"),
    },
    "leg_close": {
        "ja": ("{side}脚を内側へ寄せましょう", "{side}脚を内側へ"),
        "en": ("Bring your {side} leg in", "Bring {side} leg in"),
    },
    "foot_raise": {
        "ja": ("{side}足をもっと高く上げましょう", "{side}足を上げて"),
        "en": ("Lift your {side} foot higher", "Lift {side} foot"),
    },
    "foot_lower": {
        "ja": ("{side}足をもう少し下ろしましょう", "{side}足を下ろして"),
        "en": ("Lower your {side} foot", "Lower {side} foot"),
    },
    "foot_out": {
        "ja": ("{side}足を外側へ出しましょう", "{side}足を外へ"),
        "en": ("Move your {side} foot further out", "Move {side} foot out"),
    },
    "foot_in": {
        "ja": ("{side}足を内側へ寄せましょう", "{side}足を内側へ"),
        "en": ("Bring your {side} foot in", "Bring {side} foot in"),
    },
    "knee_bend": {
        "ja": ("{side}ひざをもっと曲げましょう", "{side}ひざを曲げて"),
        "en": ("Bend your {side} knee more", "Bend {side} knee"),
    },
    "knee_straighten": {
        "ja": ("{side}ひざをしっかり伸ばしましょう", "{side}ひざを伸ばして"),
        "en": ("Straighten your {side} knee", "Straighten {side} knee"),
    },
    "torso_lean": {
        "ja": ("上半身を{side}へ傾けましょう", "上半身を{side}へ傾けて"),
        "en": ("Lean your upper body to your {side}", "Lean to your {side}"),
    },
    "torso_upright": {
        "ja": ("上半身をまっすぐに保ちましょう", "上半身をまっすぐに"),
        "en": ("Keep your upper body upright", "Stand tall"),
    },
    "head_tilt": {
        "ja": ("頭を{side}へ傾けましょう", "頭を{side}へ傾けて"),
        "en": ("Tilt your head to your {side}", "Tilt head {side}"),
    },
    "head_straight": {
        "ja": ("頭をまっすぐに保ちましょう", "頭をまっすぐに"),
        "en": ("Keep your head straight", "Head straight"),
    },
    # Form-only mode (no reference track).
    "frame_step_back": {
        "ja": ("全身が画面に映るように下がりましょう", "全身を画面に入れて"),
        "en": ("Step back so your whole body is in the frame", "Get fully in frame"),
    },
    "balance": {
        "ja": ("重心を両足の真上に保ちましょう", "重心を足の上に"),
        "en": ("Keep your weight centred over your feet", "Centre your weight"),
    },
    "symmetry_arms": {
        "ja": ("左右の腕の形をそろえましょう", "左右の腕をそろえて"),
        "en": ("Match your left and right arms", "Match both arms"),
    },
    "symmetry_legs": {
        "ja": ("左右の脚の形をそろえましょう", "左右の脚をそろえて"),
        "en": ("Match your left and right legs", "Match both legs"),
    },
}

GOOD_POINTS = {
    "part_match": {
        "ja": ("{part}の動きがお手本とよく合っています", "{part}がぴったり"),
        "en": ("Your {part} matches the reference well", "Good {part}"),
    },
    "part_closest": {
        "ja": ("{part}が一番お手本に近いです", "{part}が一番近い"),
        "en": ("Your {part} is the closest to the reference", "Closest: {part}"),
    },
    "timing": {
        "ja": ("タイミングがぴったり合っています", "タイミングばっちり"),
        "en": ("Your timing is right on the beat", "On the beat"),
    },
    "in_frame": {
        "ja": ("全身がしっかり画面に映っています", "全身が映っている"),
        "en": ("Your whole body is in the frame", "Fully in frame"),
    },
    "balanced": {
        "ja": ("重心が両足の上で安定しています", "重心が安定"),
        "en": ("Good balance over your feet", "Good balance"),
    },
    "symmetric": {
        "ja": ("左右のバランスがきれいです", "左右対称がきれい"),
        "en": ("Nice left-right symmetry", "Nice symmetry"),
    },
    "extended": {
        "ja": ("手足がしっかり伸びています", "手足が伸びている"),
        "en": ("Arms and legs nicely extended", "Good extension"),
    },
    "part_form": {
        "ja": ("{part}のフォームが安定しています", "{part}が安定"),
        "en": ("Your {part} looks steady", "Steady {part}"),
    },
}

ADVICE = {
    "late": {
        "ja": ("{sec}秒遅れています。拍を先読みして動きましょう", "{sec}秒遅れ。先読みしよう"),
        "en": ("You are {sec} s late: anticipate the beat", "{sec} s late: anticipate"),
    },
    "early": {
        "ja": ("{sec}秒早いです。拍をよく聴いて合わせましょう", "{sec}秒早い。拍を聴いて"),
        "en": ("You are {sec} s early: wait for the beat", "{sec} s early: wait"),
    },
    # {fix} is an improvement's long form; the short form is "まずは" + its short form.
    "focus": {
        "ja": ("まずはここから: {fix}", "まずは{fix}"),
        "en": ("Focus on one thing first: {fix}", "{fix}"),
    },
    "keep_going": {
        "ja": ("お手本とよく合っています。この調子で続けましょう", "この調子で続けよう"),
        "en": ("Great match: keep it up and stay on the beat", "Great: keep it up"),
    },
    "form_keep": {
        "ja": ("良いフォームです。この調子で踊りましょう", "良いフォーム!この調子"),
        "en": ("Good form: keep dancing with the music", "Good form: keep going"),
    },
}
