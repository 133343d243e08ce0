// The clip scrubber's front end (anywidget ES module): one timeline canvas (spectrogram,
// arousal, valence, quadrant probabilities), one arousal-valence canvas, an <audio> element,
// a play button and a time slider.
//
// Drawing: the static layers (spectrogram image, every curve, axes) are painted once per
// clip into offscreen canvases; a position change only copies them and draws the cursor and
// the AV points with their fading trails, so a tick costs the same for a 5 s clip and a
// 10-minute one. While the audio plays, the cursor follows audio.currentTime on every
// animation frame and the Python side hears the position at most every 200 ms.
//
// Readability: the spectrogram's axis in Hz (labels placed on its mel scale), numbered y-axes,
// a model's spread across trials as a band, click-to-seek on the timeline.
//
// Test hooks: the timeline canvas carries data-cursor-x (cursor pixel) and data-curves (JSON
// of the curve names drawn), the AV canvas data-av-point (JSON of each curve's current point).

const Q_COLOURS = ["#e45756", "#f58518", "#4c78a8", "#54a24b"];
const DPR = () => window.devicePixelRatio || 1;

function lerpAt(t, time, values) {
  const n = time.length;
  if (n === 0) return 0;
  if (t <= time[0]) return values[0];
  if (t >= time[n - 1]) return values[n - 1];
  let lo = 0, hi = n - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (time[mid] <= t) lo = mid; else hi = mid;
  }
  const f = (t - time[lo]) / (time[hi] - time[lo]);
  return values[lo] + f * (values[hi] - values[lo]);
}

function fmt(t) {
  const m = Math.floor(t / 60), s = t - 60 * m;
  return `${m}:${s.toFixed(1).padStart(4, "0")}`;
}

function render({ model, el }) {
  el.classList.add("mer-ser-scrubber");
  const root = document.createElement("div");
  root.className = "mss-root";
  const title = document.createElement("div");
  title.className = "mss-title";
  const row = document.createElement("div");
  row.className = "mss-row";
  const timeline = document.createElement("canvas");
  timeline.className = "mss-timeline";
  const plane = document.createElement("canvas");
  plane.className = "mss-plane";
  row.append(timeline, plane);
  const controls = document.createElement("div");
  controls.className = "mss-controls";
  const play = document.createElement("button");
  play.className = "mss-play";
  play.textContent = "▶ play";
  const slider = document.createElement("input");
  slider.type = "range";
  slider.className = "mss-slider";
  slider.min = "0";
  slider.step = "0.01";
  const clock = document.createElement("span");
  clock.className = "mss-clock";
  controls.append(play, slider, clock);
  const audio = document.createElement("audio");
  audio.className = "mss-audio";
  audio.preload = "auto";
  const legend = document.createElement("div");
  legend.className = "mss-legend";
  root.append(title, row, controls, legend, audio);
  el.appendChild(root);

  const W = 620, H_SPEC = 110, H_DIM = 90, H_Q = 60, PAD_L = 52, PAD_R = 8, AV = 250;
  let layers = null; // offscreen static layers of the current clip
  let audioUrl = null;
  let lastSent = 0;

  function dims() {
    const hasQ = model.get("quadrants").length > 0;
    const h = H_SPEC + 2 * H_DIM + (hasQ ? H_Q : 0) + 18;
    return { w: W, h, hasQ };
  }

  function xOf(t) {
    const d = Math.max(model.get("duration"), 1e-6);
    return PAD_L + (t / d) * (W - PAD_L - PAD_R);
  }

  function sizeCanvas(c, w, h) {
    const r = DPR();
    c.width = Math.round(w * r);
    c.height = Math.round(h * r);
    c.style.width = `${w}px`;
    c.style.height = `${h}px`;
    const ctx = c.getContext("2d");
    ctx.setTransform(r, 0, 0, r, 0, 0);
    return ctx;
  }

  function offscreen(w, h) {
    const c = document.createElement("canvas");
    return [c, sizeCanvas(c, w, h)];
  }

  function curves() {
    return model.get("curves");
  }

  function buildLayers() {
    const { w, h, hasQ } = dims();
    const [tl, ctx] = offscreen(w, h);
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, w, h);
    // spectrogram: uint8 image (bands x columns), low bands at the bottom
    const [rows, cols] = model.get("spec_shape");
    const spec = model.get("spectrogram");
    if (rows > 0 && cols > 0 && spec) {
      const bytes = new Uint8Array(spec.buffer, spec.byteOffset, spec.byteLength);
      const img = new ImageData(cols, rows);
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < cols; c++) {
          const v = bytes[r * cols + c];
          const o = ((rows - 1 - r) * cols + c) * 4;
          img.data[o] = Math.min(255, v * 1.2);
          img.data[o + 1] = Math.max(0, v - 90) * 1.4;
          img.data[o + 2] = 60 + v * 0.5;
          img.data[o + 3] = 255;
        }
      }
      const [sc, sctx] = offscreen(cols, rows);
      sctx.setTransform(1, 0, 0, 1, 0, 0);
      sc.width = cols;
      sc.height = rows;
      sc.getContext("2d").putImageData(img, 0, 0);
      ctx.imageSmoothingEnabled = true;
      ctx.drawImage(sc, PAD_L, 0, w - PAD_L - PAD_R, H_SPEC);
    }
    ctx.fillStyle = "#333";
    ctx.font = "10px sans-serif";
    ctx.textAlign = "right";
    for (const [f, label] of model.get("spec_ticks")) {  // Hz on the image's mel scale
      const y = H_SPEC - f * H_SPEC;
      ctx.fillText(label, PAD_L - 4, Math.min(H_SPEC - 2, Math.max(9, y + 3)));
    }
    ctx.textAlign = "left";
    ctx.font = "11px sans-serif";
    ctx.save();
    ctx.translate(10, H_SPEC / 2 + 8);
    ctx.rotate(-Math.PI / 2);
    ctx.fillText("Hz", 0, 0);
    ctx.restore();
    // arousal and valence panels
    const panels = [["arousal", "a", H_SPEC], ["valence", "v", H_SPEC + H_DIM]];
    for (const [label, key, top] of panels) {
      ctx.strokeStyle = "#dddddd";
      ctx.beginPath();
      ctx.moveTo(PAD_L, top + H_DIM / 2);
      ctx.lineTo(w - PAD_R, top + H_DIM / 2);
      ctx.stroke();
      ctx.strokeStyle = "#bbbbbb";
      ctx.strokeRect(PAD_L, top + 2, w - PAD_L - PAD_R, H_DIM - 4);
      const yOf = (v) => top + 2 + (1 - (v + 1) / 2) * (H_DIM - 4);
      ctx.fillStyle = "#333";
      ctx.save();
      ctx.translate(10, top + H_DIM / 2 + 20);
      ctx.rotate(-Math.PI / 2);
      ctx.fillText(label, 0, 0);
      ctx.restore();
      ctx.font = "10px sans-serif";
      ctx.textAlign = "right";
      // inside the panel's frame: 1 just below its top, -1 just above its bottom
      for (const [v, dy] of [[1, 9], [0, 3], [-1, -2]]) {
        ctx.fillText(String(v), PAD_L - 4, yOf(v) + dy);
      }
      ctx.textAlign = "left";
      ctx.font = "11px sans-serif";
      // spread across a model's trials: a band of one standard deviation
      for (const c of curves()) {
        const sd = c["s" + key];
        if (!sd) continue;
        ctx.fillStyle = c.colour;
        ctx.globalAlpha = 0.18;
        ctx.beginPath();
        for (let i = 0; i < c.t.length; i++) {
          const x = xOf(c.t[i]), y = yOf(Math.min(1, c[key][i] + sd[i]));
          if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
        }
        for (let i = c.t.length - 1; i >= 0; i--) {
          ctx.lineTo(xOf(c.t[i]), yOf(Math.max(-1, c[key][i] - sd[i])));
        }
        ctx.closePath();
        ctx.fill();
        ctx.globalAlpha = 1;
      }
      for (const c of curves()) {
        ctx.strokeStyle = c.colour;
        ctx.lineWidth = c.kind === "gold" ? 2 : c.kind === "rater" ? 0.7 : 1.5;
        ctx.globalAlpha = c.kind === "rater" ? 0.7 : 1;
        ctx.beginPath();
        const vals = c[key];
        // at most ~2 points per pixel: long clips draw as fast as short ones
        const step = Math.max(1, Math.floor(c.t.length / (2 * (w - PAD_L))));
        for (let i = 0; i < c.t.length; i += step) {
          const x = xOf(c.t[i]), y = yOf(vals[i]);
          if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
        }
        ctx.stroke();
        ctx.globalAlpha = 1;
      }
    }
    if (hasQ) {
      const top = H_SPEC + 2 * H_DIM;
      const q = model.get("quadrants")[0];
      const n = q.t.length;
      for (let i = 0; i < n; i++) {
        const x0 = xOf(i === 0 ? 0 : (q.t[i - 1] + q.t[i]) / 2);
        const x1 = xOf(i === n - 1 ? model.get("duration") : (q.t[i] + q.t[i + 1]) / 2);
        let y = top + 2;
        for (let k = 0; k < 4; k++) {
          const hk = q.p[i][k] * (H_Q - 4);
          ctx.fillStyle = Q_COLOURS[k];
          ctx.fillRect(x0, y, Math.max(1, x1 - x0), hk);
          y += hk;
        }
      }
      ctx.fillStyle = "#333";
      ctx.fillText("P(Q)", 2, top + H_Q / 2 + 4);
      ctx.font = "10px sans-serif";
      ctx.textAlign = "right";
      ctx.fillText("1", PAD_L - 4, top + 10);
      ctx.fillText("0", PAD_L - 4, top + H_Q - 2);
      ctx.textAlign = "left";
      ctx.font = "11px sans-serif";
    }
    // time axis
    ctx.fillStyle = "#555";
    const d = model.get("duration");
    const tick = d > 300 ? 60 : d > 60 ? 10 : d > 15 ? 5 : 1;
    for (let t = 0; t <= d + 1e-9; t += tick) {
      ctx.fillText(`${Math.round(t)}s`, xOf(t) - 6, h - 4);
    }
    // the AV plane background
    const [pl, pctx] = offscreen(AV, AV);
    pctx.fillStyle = "#ffffff";
    pctx.fillRect(0, 0, AV, AV);
    pctx.strokeStyle = "#cccccc";
    pctx.strokeRect(0.5, 0.5, AV - 1, AV - 1);
    pctx.beginPath();
    pctx.moveTo(AV / 2, 0);
    pctx.lineTo(AV / 2, AV);
    pctx.moveTo(0, AV / 2);
    pctx.lineTo(AV, AV / 2);
    pctx.stroke();
    pctx.fillStyle = "#d0d0d0";
    pctx.font = "16px sans-serif";
    pctx.fillText("Q1", AV * 0.72, AV * 0.28);
    pctx.fillText("Q2", AV * 0.2, AV * 0.28);
    pctx.fillText("Q3", AV * 0.2, AV * 0.78);
    pctx.fillText("Q4", AV * 0.72, AV * 0.78);
    pctx.fillStyle = "#555";
    pctx.font = "11px sans-serif";
    pctx.fillText("valence →", AV - 62, AV / 2 - 4);
    pctx.fillText("arousal ↑", AV / 2 + 4, 12);
    layers = { tl, pl, w, h };
    timeline.dataset.curves = JSON.stringify(
      curves().filter((c) => c.kind !== "rater").map((c) => c.name));
    sizeCanvas(timeline, w, h);
    sizeCanvas(plane, AV, AV);
    legend.innerHTML = "";
    for (const c of curves()) {
      if (c.kind === "rater") continue;
      const item = document.createElement("span");
      item.className = "mss-key";
      item.innerHTML = `<i style="background:${c.colour}"></i>${c.name}`;
      legend.appendChild(item);
    }
  }

  function avPoint(a, v) {
    return [((v + 1) / 2) * AV, (1 - (a + 1) / 2) * AV];
  }

  function draw(t) {
    if (!layers) return;
    const tctx = timeline.getContext("2d");
    tctx.drawImage(layers.tl, 0, 0, layers.w, layers.h);
    const x = xOf(t);
    tctx.strokeStyle = "#00a0ff";
    tctx.lineWidth = 2;
    tctx.beginPath();
    tctx.moveTo(x, 0);
    tctx.lineTo(x, layers.h - 14);
    tctx.stroke();
    timeline.dataset.cursorX = x.toFixed(2);
    const pctx = plane.getContext("2d");
    pctx.drawImage(layers.pl, 0, 0, AV, AV);
    const trail = model.get("trail");
    const points = {};
    for (const c of curves()) {
      if (c.kind === "rater") continue;
      // fading trail: samples of the last `trail` seconds, older ones fainter
      const n = 24;
      let prev = null;
      for (let k = 0; k <= n; k++) {
        const s = t - trail + (trail * k) / n;
        if (s < 0) continue;
        const p = avPoint(lerpAt(s, c.t, c.a), lerpAt(s, c.t, c.v));
        if (prev) {
          pctx.strokeStyle = c.colour;
          pctx.globalAlpha = 0.1 + (0.8 * k) / n;
          pctx.lineWidth = 2;
          pctx.beginPath();
          pctx.moveTo(prev[0], prev[1]);
          pctx.lineTo(p[0], p[1]);
          pctx.stroke();
        }
        prev = p;
      }
      pctx.globalAlpha = 1;
      const [px, py] = avPoint(lerpAt(t, c.t, c.a), lerpAt(t, c.t, c.v));
      pctx.fillStyle = c.colour;
      pctx.strokeStyle = "#ffffff";
      pctx.beginPath();
      pctx.arc(px, py, 6, 0, 2 * Math.PI);
      pctx.fill();
      pctx.stroke();
      points[c.name] = [Number(px.toFixed(2)), Number(py.toFixed(2))];
    }
    plane.dataset.avPoint = JSON.stringify(points);
    clock.textContent = `${fmt(t)} / ${fmt(model.get("duration"))}`;
    if (document.activeElement !== slider || audio.paused) slider.value = String(t);
  }

  function setAudio() {
    // only when the audio itself changed: toggling models keeps playback going
    const wav = model.get("audio");
    audio.pause();
    if (audioUrl) URL.revokeObjectURL(audioUrl);
    audioUrl = null;
    if (wav && wav.byteLength > 0) {
      audioUrl = URL.createObjectURL(new Blob([wav], { type: "audio/wav" }));
      audio.src = audioUrl;
    }
  }

  function loadClip() {
    title.textContent = model.get("title");
    slider.max = String(model.get("duration"));
    buildLayers();
    draw(model.get("position"));
  }

  function setPosition(t, sync) {
    t = Math.min(Math.max(t, 0), model.get("duration"));
    draw(t);
    const now = performance.now();
    if (sync || now - lastSent > 200) {
      model.set("position", t);
      model.save_changes();
      lastSent = now;
    }
  }

  timeline.addEventListener("click", (ev) => {  // click-to-seek on the timeline
    const r = timeline.getBoundingClientRect();
    const frac = (ev.clientX - r.left - PAD_L) / (W - PAD_L - PAD_R);
    if (frac < 0 || frac > 1) return;
    const t = frac * model.get("duration");
    if (!audio.paused) audio.currentTime = t;
    setPosition(t, true);
  });
  slider.addEventListener("input", () => {
    const t = Number(slider.value);
    if (!audio.paused) audio.currentTime = t;
    setPosition(t, true);
  });
  play.addEventListener("click", () => {
    if (audio.paused) {
      audio.currentTime = model.get("position");
      audio.play().catch(() => {});
    } else {
      audio.pause();
    }
  });
  let raf = null;
  function follow() {
    setPosition(audio.currentTime, false);
    if (!audio.paused) raf = requestAnimationFrame(follow);
  }
  audio.addEventListener("play", () => {
    play.textContent = "❚❚ pause";
    raf = requestAnimationFrame(follow);
  });
  audio.addEventListener("pause", () => {
    play.textContent = "▶ play";
    if (raf) cancelAnimationFrame(raf);
    setPosition(audio.currentTime, true);
  });
  audio.addEventListener("ended", () => setPosition(model.get("duration"), true));

  model.on("change:position", () => {
    if (audio.paused) draw(model.get("position"));
  });
  model.on("change:audio", setAudio);
  model.on("change:clip_token", loadClip);
  model.on("change:trail", () => draw(model.get("position")));
  setAudio();
  loadClip();
  return () => {
    if (raf) cancelAnimationFrame(raf);
    audio.pause();
    if (audioUrl) URL.revokeObjectURL(audioUrl);
  };
}

export default { render };
