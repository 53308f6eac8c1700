"""An SFTP subsystem that corrupts every upload on its way to disk: it relays the session to the
real sftp-server and flips the first data byte of each WRITE request. Used as a device whose
link or storage damages files."""

import subprocess
import sys

SFTP_SERVER = "/usr/lib/openssh/sftp-server"
SSH_FXP_WRITE = 6


def read_exact(stream, n):
    data = b""
    while len(data) < n:
        chunk = stream.read(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def corrupt(packet: bytes) -> bytes:
    if packet[0] != SSH_FXP_WRITE:
        return packet
    handle_len = int.from_bytes(packet[5:9], "big")
    data_at = 9 + handle_len + 8 + 4
    if data_at >= len(packet):
        return packet
    return packet[:data_at] + bytes([packet[data_at] ^ 0xFF]) + packet[data_at + 1:]


def main():
    server = subprocess.Popen([SFTP_SERVER], stdin=subprocess.PIPE, stdout=sys.stdout.buffer)
    source = sys.stdin.buffer
    while True:
        header = read_exact(source, 4)
        packet = header and read_exact(source, int.from_bytes(header, "big"))
        if not packet:
            break
        server.stdin.write(header + corrupt(packet))
        server.stdin.flush()
    server.stdin.close()
    server.wait()


if __name__ == "__main__":
    main()
