// The share page: shows the state embedded in the page, then polls /share/<token>/status until the job is done,
// updating the status line, the video (with its captions track) and the scene list without a reload.
"use strict";

(function () {
  var data = JSON.parse(document.getElementById("share-data").textContent);
  var base = location.pathname.replace(/\/+$/, "");
  var statusLine = document.getElementById("status");
  var video = document.getElementById("video");
  var errorLine = document.getElementById("error");
  var list = document.getElementById("scenes");
  var shownVideo = null;
  var TERMINAL = { completed: true, failed: true, cancelled: true };
  var WORDS = {
    not_rendered: "Not rendered yet", queued: "Queued", rendering: "Rendering",
    completed: "Completed", failed: "Failed", cancelled: "Cancelled"
  };

  function statusText(state) {
    var text = WORDS[state.status] || state.status;
    if (state.status === "rendering") {
      text += " (" + (state.phase || "rendering").replace(/_/g, " ") + ", " + state.progress + "%)";
    }
    return text;
  }

  function showVideo(state) {
    if (!state.videoUrl || shownVideo === state.videoUrl) {
      return;
    }
    shownVideo = state.videoUrl;
    if (state.scenes.length && state.scenes[0].posterUrl) {
      video.poster = state.scenes[0].posterUrl;
    }
    while (video.firstChild) {
      video.removeChild(video.firstChild);
    }
    video.src = state.videoUrl;
    if (state.captionsUrl) {
      var track = document.createElement("track");
      track.kind = "captions";
      track.label = "Captions";
      track.srclang = document.documentElement.lang || "en";
      track.src = state.captionsUrl;
      track.default = true;
      video.appendChild(track);
      track.track.mode = "showing";
    }
    video.load();
  }

  function showScenes(scenes) {
    var items = [];
    scenes.forEach(function (scene, index) {
      var item = document.createElement("li");
      item.className = "scene";
      item.dataset.sceneId = scene.id || "";
      var frame = document.createElement("div");
      frame.className = "poster";
      if (scene.posterUrl) {
        var img = document.createElement("img");
        img.src = scene.posterUrl;
        img.alt = "Scene " + (index + 1);
        img.loading = "lazy";
        frame.appendChild(img);
      }
      item.appendChild(frame);
      var text = document.createElement("div");
      text.className = "text";
      if (scene.title) {
        var heading = document.createElement("h3");
        heading.textContent = scene.title;
        text.appendChild(heading);
      }
      var narration = document.createElement("p");
      narration.className = "narration";
      narration.textContent = scene.narration || "";
      text.appendChild(narration);
      if (typeof scene.start === "number") {
        var seek = document.createElement("button");
        seek.type = "button";
        seek.textContent = "Play from " + scene.start.toFixed(1) + " s";
        seek.addEventListener("click", function () {
          video.currentTime = scene.start;
          video.play();
        });
        text.appendChild(seek);
      }
      item.appendChild(text);
      items.push(item);
    });
    list.replaceChildren.apply(list, items);
  }

  function show(state) {
    statusLine.textContent = statusText(state);
    statusLine.dataset.status = state.status;
    errorLine.hidden = !state.error;
    errorLine.textContent = state.error || "";
    var key = JSON.stringify(state.scenes);
    if (list.dataset.shown !== key) {
      list.dataset.shown = key;
      showScenes(state.scenes);
    }
    showVideo(state);
  }

  function poll() {
    fetch(base + "/status", { cache: "no-store" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (state) {
        if (state) {
          show(state);
        }
        if (!state || !TERMINAL[state.status]) {
          setTimeout(poll, 1000);
        }
      })
      .catch(function () { setTimeout(poll, 3000); });
  }

  show(data.state);
  if (!TERMINAL[data.state.status]) {
    setTimeout(poll, 1000);
  }
})();
