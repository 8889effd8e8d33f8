/**
 * Reads a PNG (8-bit greyscale, RGB or RGBA, not interlaced: what Chromium's
 * --screenshot writes) into pixels with Node's own zlib, so a test can tell
 * a rendered page from a blank one by the spread of its pixels.
 */
import { inflateSync } from "node:zlib";

export interface Pixels {
    width: number;
    height: number;
    /** Samples per pixel: 1 (grey), 3 (RGB) or 4 (RGBA). */
    channels: number;
    data: Uint8Array;
}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export function decodePng(file: Buffer): Pixels {
    if (!file.subarray(0, 8).equals(SIGNATURE)) throw new Error("not a PNG file");
    let width = 0;
    let height = 0;
    let channels = 0;
    const idat: Buffer[] = [];
    for (let at = 8; at < file.length;) {
        const length = file.readUInt32BE(at);
        const type = file.toString("latin1", at + 4, at + 8);
        const body = file.subarray(at + 8, at + 8 + length);
        if (type === "IHDR") {
            width = body.readUInt32BE(0);
            height = body.readUInt32BE(4);
            const depth = body[8];
            const colour = body[9];
            const interlace = body[12];
            channels = { 0: 1, 2: 3, 6: 4 }[colour] ?? 0;
            if (depth !== 8 || channels === 0 || interlace !== 0)
                throw new Error(`unsupported PNG: depth ${depth}, colour type ${colour}, interlace ${interlace}`);
        } else if (type === "IDAT") idat.push(body);
        else if (type === "IEND") break;
        at += 12 + length;
    }
    const raw = inflateSync(Buffer.concat(idat));
    const stride = width * channels;
    const data = new Uint8Array(height * stride);
    for (let y = 0; y < height; y++) {
        const filter = raw[y * (stride + 1)];
        const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
        for (let x = 0; x < stride; x++) {
            const a = x >= channels ? data[y * stride + x - channels] : 0;
            const b = y > 0 ? data[(y - 1) * stride + x] : 0;
            const c = x >= channels && y > 0 ? data[(y - 1) * stride + x - channels] : 0;
            const v = line[x];
            let out: number;
            if (filter === 0) out = v;
            else if (filter === 1) out = v + a;
            else if (filter === 2) out = v + b;
            else if (filter === 3) out = v + ((a + b) >> 1);
            else if (filter === 4) {
                const p = a + b - c;
                const pa = Math.abs(p - a);
                const pb = Math.abs(p - b);
                const pc = Math.abs(p - c);
                out = v + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
            } else throw new Error(`PNG row ${y}: unknown filter ${filter}`);
            data[y * stride + x] = out & 0xff;
        }
    }
    return { width, height, channels, data };
}

/** Variance of the pixels' luminance (0–255 scale): 0 for a blank page, hundreds for text and charts on white. */
export function luminanceVariance(p: Pixels): number {
    let n = 0;
    let sum = 0;
    let sumSq = 0;
    for (let i = 0; i < p.data.length; i += p.channels) {
        const l = p.channels < 3 ? p.data[i] : 0.299 * p.data[i] + 0.587 * p.data[i + 1] + 0.114 * p.data[i + 2];
        n++;
        sum += l;
        sumSq += l * l;
    }
    const mean = sum / n;
    return sumSq / n - mean * mean;
}

/** Share of pixels that are not near-white: how much of the screenshot is ink. */
export function inkShare(p: Pixels): number {
    let ink = 0;
    let n = 0;
    for (let i = 0; i < p.data.length; i += p.channels) {
        n++;
        const min = p.channels < 3 ? p.data[i] : Math.min(p.data[i], p.data[i + 1], p.data[i + 2]);
        if (min < 200) ink++;
    }
    return ink / n;
}
