import pytest

from playlists.youtube import MAX_URL_LENGTH, InvalidYouTubeURL, youtube_id_from_url, youtube_watch_url

ID = "dQw4w9WgXcQ"


def test_the_parser_refuses_what_is_not_a_string_with_a_value_error():
    for value in (None, 42, b"https://youtu.be/dQw4w9WgXcQ", ["https://youtu.be/dQw4w9WgXcQ"]):
        with pytest.raises(ValueError, match="must be a string"):
            youtube_id_from_url(value)


def test_the_length_limit_is_2048_characters_inclusive():
    base = f"https://www.youtube.com/watch?v={ID}&pad="
    assert youtube_id_from_url(base + "a" * (MAX_URL_LENGTH - len(base))) == ID
    with pytest.raises(InvalidYouTubeURL, match="2,048"):
        youtube_id_from_url(base + "a" * (MAX_URL_LENGTH - len(base) + 1))


@pytest.mark.parametrize(
    "url, reason",
    [
        ("https://www.youtube.com.example.org/watch?v=dQw4w9WgXcQ", "not a YouTube host"),
        ("https://youtube.com@evil.com/watch?v=dQw4w9WgXcQ", "user name"),
        ("https://www.youtube.com:8443/watch?v=dQw4w9WgXcQ", "port"),
        ("https://www.youtube.com/playlist?list=PL0123456789", "playlist"),
        ("https://www.youtube.com/watch?list=PL0123456789", "v= parameter is missing"),
        ("https://www.youtube.com/channel/UC0123456789abcdefghij", "not a video"),
        ("https://youtu.be/dQw4w9WgXc", "11 letters"),
        ("ftp://www.youtube.com/watch?v=dQw4w9WgXcQ", "http:// or https://"),
        ("https://www.youtube.com\\@evil.com/watch?v=dQw4w9WgXcQ", "backslashes"),
    ],
)
def test_each_refusal_says_why(url, reason):
    with pytest.raises(InvalidYouTubeURL, match=reason):
        youtube_id_from_url(url)


def test_the_watch_url_is_canonical_and_round_trips():
    assert youtube_watch_url(ID) == f"https://www.youtube.com/watch?v={ID}"
    assert youtube_id_from_url(youtube_watch_url(ID)) == ID
    with pytest.raises(InvalidYouTubeURL):
        youtube_watch_url("short")
