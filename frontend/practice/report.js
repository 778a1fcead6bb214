// End of practice: the session report and the video's leaderboard, each shown only when its
// endpoint answers 200 (GET sessions/{id}/report/, GET videos/{id}/leaderboard/).

const SVG = "http://www.w3.org/2000/svg";

function element(tag, text, attributes = {}) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  Object.assign(node, attributes);
  return node;
}

async function fetchOrNull(api, path) {
  try {
    return (await api.call("GET", path)).data;
  } catch {
    return null;
  }
}

// Score (0..100) over video time, one point per completed analysis.
function timelineChart(timeline) {
  const width = 600;
  const height = 160;
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("role", "img");
  svg.classList.add("timeline");
  if (!timeline.length) return svg;
  const last = Math.max(...timeline.map((p) => p.timestamp), 1);
  const points = timeline.map((p) => `${(p.timestamp / last) * (width - 20) + 10},${height - 10 - (p.score / 100) * (height - 20)}`);
  const line = document.createElementNS(SVG, "polyline");
  line.setAttribute("points", points.join(" "));
  svg.append(line);
  svg.setAttribute("aria-label", timeline.map((p) => `${p.timestamp.toFixed(0)} s: ${p.score}`).join(", "));
  return svg;
}

function renderReport(body, report, t, onLoop) {
  body.replaceChildren();
  if (report.summary) body.append(element("p", report.summary, { className: "summary" }));
  if (report.previous) {
    const delta = report.previous.delta;
    body.append(element("p", `${t("change")}: ${delta > 0 ? "+" : ""}${Math.round(delta)}`));
  }
  body.append(timelineChart(report.timeline ?? []));
  if (report.worst_moments?.length) {
    body.append(element("h3", t("worst")));
    const list = element("ul");
    for (const moment of report.worst_moments) {
      const item = element("li", `${moment.start.toFixed(1)}–${moment.end.toFixed(1)} s: ${Math.round(moment.average_score)} (${(moment.body_parts ?? []).map((p) => p.part ?? p).join(", ")}) `);
      const button = element("button", t("loopHere"), { type: "button" });
      button.addEventListener("click", () => onLoop(moment.start, moment.end));
      item.append(button);
      list.append(item);
    }
    body.append(list);
  }
  const parts = Array.isArray(report.body_parts)
    ? report.body_parts.map((p) => [p.part ?? p.name, p.score ?? p.average_score])
    : Object.entries(report.body_parts ?? {});
  if (parts.length) {
    body.append(element("h3", t("bodyParts")));
    const list = element("ul");
    for (const [part, score] of parts) list.append(element("li", `${part}: ${Math.round(score)}`));
    body.append(list);
  }
}

function renderLeaderboard(body, board, t) {
  body.replaceChildren();
  const list = element("ol", undefined, { className: "leaderboard" });
  for (const row of board.results ?? []) list.append(element("li", `#${row.rank} ${row.display_name}: ${Math.round(row.score)}`));
  body.append(list);
  if (board.me) body.append(element("p", `${t("you")}: ${board.me.rank ? `#${board.me.rank}` : t("notRanked")} · ${Math.round(board.me.score)}`));
}

export async function showReport({ api, session, video, t, onLoop }) {
  const reportBody = document.getElementById("report-body");
  const boardBody = document.getElementById("leaderboard-body");
  reportBody.replaceChildren(element("p", t("reportUnavailable")));
  boardBody.replaceChildren();
  const [report, sessionRow, board] = await Promise.all([
    session ? fetchOrNull(api, `sessions/${session}/report/`) : null,
    session ? fetchOrNull(api, `sessions/${session}/`) : null,
    video ? fetchOrNull(api, `videos/${video.id}/leaderboard/`) : null,
  ]);
  if (report) renderReport(reportBody, report, t, onLoop);
  else if (sessionRow) reportBody.replaceChildren();
  // The session's own figures (GET sessions/{id}/) come first, report or not.
  if (sessionRow) {
    const average = sessionRow.average_score === null ? "–" : Math.round(sessionRow.average_score);
    const figures = `${t("analyses")}: ${sessionRow.analysis_count} · ${t("average")}: ${average} · ${t("best")}: ${sessionRow.best_score ?? "–"}`;
    reportBody.prepend(element("p", figures, { id: "session-figures" }));
  }
  if (board) renderLeaderboard(boardBody, board, t);
}
