"""musicrec's /rest calls through real Subsonic client libraries (py-sonic's `libsonic` and
`knuckles`), run by crates/server/tests/subsonic_clients.rs with the venv .ci/run makes.

    python clients.py standalone PORT SONG_ID
    python clients.py companion PORT USER PASSWORD UPSTREAM_PORT

Exits non-zero (with a message) on the first failed check; prints what it saw as JSON lines.
"""

import json
import sys
import urllib.request

import knuckles
import libsonic


def check(condition, message):
    if not condition:
        sys.exit(f"FAILED: {message}")


def show(**fields):
    print(json.dumps(fields), flush=True)


def standalone(port, song_id):
    # musicrec without --upstream: no token on loopback, any user and password.
    conn = libsonic.Connection("http://127.0.0.1", "anyone", "secret", port=port)
    check(conn.ping(), "ping")
    lic = conn.getLicense()
    check(lic["license"]["valid"] is True, f"getLicense: {lic}")
    folders = conn.getMusicFolders()
    check(folders["musicFolders"]["musicFolder"][0]["id"] == 1, f"getMusicFolders: {folders}")
    similar = conn.getSimilarSongs2(song_id, count=5)
    songs = similar["similarSongs2"]["song"]
    check(len(songs) == 5 and all(s["id"] != song_id for s in songs), f"getSimilarSongs2: {similar}")
    show(call="getSimilarSongs2", ids=[s["id"] for s in songs])
    # Calls musicrec does not implement: a Subsonic error with code 0, which libsonic raises as
    # SonicError (an HTTP 404 would be urllib's HTTPError instead).
    for name, call in [
        ("getArtists", lambda: conn.getArtists()),
        ("search3", lambda: conn.search3("x")),
        ("getSong", lambda: conn.getSong(song_id)),
        ("getAlbumList2", lambda: conn.getAlbumList2("random")),
    ]:
        try:
            call()
        except libsonic.errors.SonicError as e:
            check("not implemented" in str(e), f"{name}: {e}")
            show(call=name, error=str(e))
        else:
            check(False, f"{name} did not fail")
    # `stream` is a binary call: libsonic reads the error envelope and raises it too.
    try:
        conn.stream(song_id)
    except libsonic.errors.SonicError as e:
        show(call="stream", error=str(e))
    else:
        check(False, "stream did not fail")

    # knuckles: token authentication, JSON, typed models.
    k = knuckles.Subsonic(f"127.0.0.1:{port}", "anyone", "secret", "musicrec-test", use_https=False)
    check(k.system.ping().status == "ok", "knuckles ping")
    check(k.system.get_license().valid is True, "knuckles getLicense")
    folders = k.browsing.get_music_folders()
    check(len(folders) == 1, f"knuckles getMusicFolders: {folders}")
    songs = k.browsing.get_similar_songs(song_id, 3)
    check(len(songs) == 3, f"knuckles getSimilarSongs2: {songs}")
    try:
        k.browsing.get_artists()
    except Exception as e:  # knuckles raises CodeError0 for code 0
        check("not implemented" in str(e), f"knuckles getArtists: {e!r}")
        show(call="knuckles getArtists", error=type(e).__name__)
    else:
        check(False, "knuckles getArtists did not fail")
    print("OK")


def companion(port, user, password, upstream_port):
    # The client logs in to musicrec with its upstream account. Supysonic only accepts
    # passwords (p / p=enc:), so legacyAuth.
    via = libsonic.Connection(
        "http://127.0.0.1", user, password, port=port, legacyAuth=True
    )
    up = libsonic.Connection(
        "http://127.0.0.1", user, password, port=upstream_port, legacyAuth=True
    )
    check(via.ping(), "ping through musicrec")
    # Browsing is the upstream's, through musicrec.
    artists = via.getArtists()
    direct = up.getArtists()
    check(artists == direct, f"getArtists differs: {artists} vs {direct}")
    names = [a["name"] for i in artists["artists"]["index"] for a in i["artist"]]
    show(call="getArtists", artists=names)
    first = artists["artists"]["index"][0]["artist"][0]
    artist = via.getArtist(first["id"])
    album_id = artist["artist"]["album"][0]["id"]
    album = via.getAlbum(album_id)
    songs = album["album"]["song"]
    check(len(songs) >= 2, f"getAlbum: {album}")
    seed = songs[0]["id"]
    show(call="getAlbum", album=album_id, songs=len(songs), seed=seed)

    # Similar songs by an upstream id, answered with upstream ids and Child objects.
    similar = via.getSimilarSongs2(seed, count=5)["similarSongs2"]["song"]
    check(len(similar) == 5, f"getSimilarSongs2: {similar}")
    for s in similar:
        check(s["id"] != seed, "the seed came back")
        got = up.getSong(s["id"])["song"]
        check(got["id"] == s["id"] and got["title"] == s["title"], f"{s} vs upstream {got}")
        check("path" in s and "/" in s["path"], f"upstream Child path: {s}")
    show(call="getSimilarSongs2", seed=seed, ids=[s["id"] for s in similar],
         paths=[s["path"] for s in similar])
    similar1 = via.getSimilarSongs(seed, count=3)["similarSongs"]["song"]
    check([s["id"] for s in similar1] == [s["id"] for s in similar[:3]], "getSimilarSongs")

    # The sonicSimilarity extension with upstream ids.
    raw = json.load(urllib.request.urlopen(
        f"http://127.0.0.1:{port}/rest/getSonicSimilarTracks?f=json&u={user}&p={password}"
        f"&v=1.16.1&c=t&id={seed}&count=4"))["subsonic-response"]
    check(raw["status"] == "ok", f"getSonicSimilarTracks: {raw}")
    matches = raw["sonicSimilarTracksResult"]["sonicMatch"]
    check([m["id"] for m in matches] == [s["id"] for s in similar[:4]], f"sonic: {matches}")
    check(all(0 <= m["distance"] <= 1 for m in matches), "distances")
    end = similar[-1]["id"]
    raw = json.load(urllib.request.urlopen(
        f"http://127.0.0.1:{port}/rest/findSonicPath?f=json&u={user}&p={password}"
        f"&v=1.16.1&c=t&startSongId={seed}&endSongId={end}&count=4"))["subsonic-response"]
    check(raw["status"] == "ok", f"findSonicPath: {raw}")
    path = [m["id"] for m in raw["findSonicPathResult"]["sonicMatch"]]
    check(path[0] == seed and path[-1] == end, f"findSonicPath: {path}")
    show(call="findSonicPath", path=path)

    # Streaming through musicrec's proxy gives the upstream's bytes.
    via_bytes = via.stream(seed).read()
    up_bytes = up.stream(seed).read()
    check(len(via_bytes) > 100_000 and via_bytes == up_bytes,
          f"stream: {len(via_bytes)} bytes vs {len(up_bytes)}")
    show(call="stream", bytes=len(via_bytes))

    # Wrong credentials: the upstream says so, through musicrec, also for musicrec's own calls.
    bad = libsonic.Connection(
        "http://127.0.0.1", user, "wrong", port=port, legacyAuth=True
    )
    for name, call in [("ping", bad.ping), ("getSimilarSongs2", lambda: bad.getSimilarSongs2(seed))]:
        try:
            call()
        except libsonic.errors.SonicError as e:
            show(call=f"{name} with a wrong password", error=str(e))
        else:
            check(False, f"{name} with a wrong password succeeded")
    print("OK")


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "standalone":
        standalone(int(sys.argv[2]), sys.argv[3])
    elif mode == "companion":
        companion(int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5]))
    else:
        sys.exit(f"unknown mode {mode}")
