import Foundation

/// The annotation tool as an `HTMLQuestion`: one self-contained page (no scripts from elsewhere)
/// showing the image with a crosshair, polyline or polygon tool, zoom, undo, instructions and an
/// example, which posts the worker's Quanti.us `raw_data` through Mechanical Turk's `externalSubmit`
/// form. Mechanical Turk opens it with `assignmentId`, `hitId`, `workerId` and `turkSubmitTo` in
/// the query; in preview (`ASSIGNMENT_ID_NOT_AVAILABLE`) the submit button stays disabled.
public enum HTMLQuestion {
    /// What a worker draws: clicks, lines or outlines.
    public enum Tool: String, CaseIterable, Sendable { case crosshairs, polyline, polygon }

    /// The HTMLQuestion XML for `CreateHIT`'s `Question`.
    public static func make(imageURL: String, tool: Tool, instructions: String, exampleURL: String? = nil, frameHeight: Int = 0) -> String {
        """
        <HTMLQuestion xmlns="http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2011-11-11/HTMLQuestion.xsd">
        <HTMLContent><![CDATA[
        \(page(imageURL: imageURL, tool: tool, instructions: instructions, exampleURL: exampleURL))
        ]]></HTMLContent>
        <FrameHeight>\(frameHeight)</FrameHeight>
        </HTMLQuestion>
        """
    }

    /// The page inside an HTMLQuestion (its CDATA), or nil if `question` is not one.
    public static func content(of question: String) -> String? {
        guard let a = question.range(of: "<![CDATA["), let b = question.range(of: "]]>", options: .backwards),
              a.upperBound <= b.lowerBound else { return nil }
        return String(question[a.upperBound..<b.lowerBound])
    }

    static func html(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    static func js(_ s: String) -> String {
        // A JSON string literal, with "</" broken so it cannot close the script element.
        let data = (try? JSONSerialization.data(withJSONObject: [s], options: [.withoutEscapingSlashes])) ?? Data("[\"\"]".utf8)
        let array = String(decoding: data, as: UTF8.self)
        return String(array.dropFirst().dropLast()).replacingOccurrences(of: "</", with: "<\\/").replacingOccurrences(of: "]]>", with: "]]\\u003e")
    }

    /// The annotation page alone (HTML), as a person doing the HIT sees it.
    public static func page(imageURL: String, tool: Tool, instructions: String, exampleURL: String?) -> String {
        let example = exampleURL.map { #"<figure><img id="example" src="\#(html($0))" alt="example of a finished annotation"><figcaption>Example of a finished annotation</figcaption></figure>"# } ?? ""
        let how: String
        switch tool {
        case .crosshairs: how = "Click once on the centre of each object."
        case .polyline: how = "Click along each line to trace it; press Enter or double-click to finish a line, then start the next."
        case .polygon: how = "Click around the outline of each object; press Enter, double-click or click the first point again to close it."
        }
        return head + "\n" + controls(instructions: instructions, how: how, example: example) + "\n" + script(tool: tool, imageURL: imageURL) + "\n</body></html>"
    }

    /// The page's head and style.
    static let head = """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>Annotate the image</title>
        <style>
        body{font:15px/1.4 system-ui,sans-serif;margin:12px;color:#222}
        #tools button{font:inherit;margin-right:6px}
        #stage{border:1px solid #888;overflow:auto;max-width:100%;max-height:80vh;display:inline-block}
        canvas{cursor:crosshair;display:block}
        #instructions{background:#f4f6fa;border-left:4px solid #4a6fa5;padding:6px 10px;margin:8px 0}
        figure{display:inline-block;margin:6px 0}figure img{max-width:300px;border:1px solid #ccc}
        #status{color:#555;margin-left:8px}
        </style></head><body>
        """

    /// Instructions, tools, the canvas and the form MTurk posts.
    static func controls(instructions: String, how: String, example: String) -> String {
        """
        <div id="instructions"><strong>Instructions.</strong> \(html(instructions)) <em>\(how)</em> Use + and − to zoom; Undo (or Ctrl+Z) removes the last point.\(example)</div>
        <div id="tools"><button type="button" id="zoomIn">+</button><button type="button" id="zoomOut">−</button><button type="button" id="undo">Undo</button><button type="button" id="finish">Finish shape</button><span id="status"></span></div>
        <div id="stage"><canvas id="canvas" width="10" height="10"></canvas></div>
        <form id="mturk_form" method="post">
        <input type="hidden" name="assignmentId" id="assignmentId" value="">
        <input type="hidden" name="annotations" id="annotations" value="">
        <p><button type="submit" id="submitButton" disabled>Submit</button></p>
        </form>
        """
    }

    /// Drawing on the canvas, zoom and undo, and the answer in the Quanti.us export's form.
    static func script(tool: Tool, imageURL: String) -> String {
        """
        <script>
        (function(){
        "use strict";
        var TOOL=\(js(tool.rawValue)), IMAGE=\(js(imageURL));
        var q=new URLSearchParams(location.search);
        var assignmentId=q.get("assignmentId")||"ASSIGNMENT_ID_NOT_AVAILABLE";
        var submitTo=q.get("turkSubmitTo")||"https://www.mturk.com";
        var preview=assignmentId==="ASSIGNMENT_ID_NOT_AVAILABLE";
        var form=document.getElementById("mturk_form");
        form.action=submitTo.replace(/\\/$/,"")+"/mturk/externalSubmit";
        document.getElementById("assignmentId").value=assignmentId;
        var canvas=document.getElementById("canvas"),ctx=canvas.getContext("2d");
        var img=new Image(),zoom=1,t0=Date.now();
        var shapes=[],current=[];   // finished annotations, and the one being drawn
        function status(){document.getElementById("status").textContent=preview?"Preview: accept the HIT to annotate.":(shapes.length+(current.length?1:0))+" annotation(s)";
          document.getElementById("submitButton").disabled=preview||!img.naturalWidth;}
        function draw(){
          canvas.width=Math.round(img.naturalWidth*zoom);canvas.height=Math.round(img.naturalHeight*zoom);
          ctx.imageSmoothingEnabled=false;ctx.drawImage(img,0,0,canvas.width,canvas.height);
          var all=shapes.concat(current.length?[current]:[]);
          all.forEach(function(s,k){
            ctx.strokeStyle=ctx.fillStyle=(s===current)?"#ffcc00":"#00e0ff";ctx.lineWidth=2;
            if(TOOL==="crosshairs"){s.forEach(function(p){var x=(p.c+0.5)*zoom,y=(p.r+0.5)*zoom;ctx.beginPath();ctx.moveTo(x-6,y);ctx.lineTo(x+6,y);ctx.moveTo(x,y-6);ctx.lineTo(x,y+6);ctx.stroke();});return;}
            ctx.beginPath();s.forEach(function(p,i){var x=(p.c+0.5)*zoom,y=(p.r+0.5)*zoom;if(i)ctx.lineTo(x,y);else ctx.moveTo(x,y);});
            if(TOOL==="polygon"&&s!==current&&s.length>2)ctx.closePath();ctx.stroke();
            s.forEach(function(p){ctx.fillRect((p.c+0.5)*zoom-2,(p.r+0.5)*zoom-2,4,4);});
          });
          status();
        }
        function finish(){
          if(TOOL==="crosshairs")return;
          var need=TOOL==="polygon"?3:2;
          if(current.length>=need)shapes.push(current);
          current=[];draw();
        }
        canvas.addEventListener("click",function(e){
          if(preview)return;
          var r=canvas.getBoundingClientRect();
          var c=Math.floor((e.clientX-r.left)/zoom),row=Math.floor((e.clientY-r.top)/zoom);
          c=Math.max(0,Math.min(img.naturalWidth-1,c));row=Math.max(0,Math.min(img.naturalHeight-1,row));
          var t=Date.now()-t0;
          if(TOOL==="polygon"&&current.length>2){var f=current[0];if(Math.abs(f.c-c)*zoom<6&&Math.abs(f.r-row)*zoom<6){finish();return;}}
          if(TOOL==="crosshairs"){if(!shapes.length)shapes.push([]);shapes[0].push({c:c,r:row,t:t});}
          else current.push({c:c,r:row,t:t});
          draw();
        });
        canvas.addEventListener("dblclick",function(e){e.preventDefault();
          // the double-click's second click added a duplicate point: drop it, then finish
          if(current.length>1){var a=current[current.length-1],b=current[current.length-2];if(a.c===b.c&&a.r===b.r)current.pop();}
          finish();});
        function undo(){
          if(TOOL==="crosshairs"){if(shapes.length&&shapes[0].length)shapes[0].pop();if(shapes.length&&!shapes[0].length)shapes=[];}
          else if(current.length)current.pop();else if(shapes.length)current=shapes.pop();
          draw();
        }
        document.getElementById("undo").onclick=undo;
        document.getElementById("finish").onclick=finish;
        document.getElementById("zoomIn").onclick=function(){zoom=Math.min(16,zoom*1.5);draw();};
        document.getElementById("zoomOut").onclick=function(){zoom=Math.max(0.25,zoom/1.5);draw();};
        document.addEventListener("keydown",function(e){
          if((e.ctrlKey||e.metaKey)&&e.key==="z"){e.preventDefault();undo();}
          else if(e.key==="Enter"){e.preventDefault();finish();}
          else if(e.key==="+"||e.key==="="){zoom=Math.min(16,zoom*1.5);draw();}
          else if(e.key==="-"){zoom=Math.max(0.25,zoom/1.5);draw();}
        });
        form.addEventListener("submit",function(e){
          if(preview){e.preventDefault();return;}
          if(current.length)finish();
          var h=img.naturalHeight;
          // Quanti.us raw_data: a list of annotations, each a list of {x, y, timestamp}, y from the bottom edge.
          var raw=shapes.map(function(s){return s.map(function(p){return {x:p.c,y:h-p.r,timestamp:p.t};});});
          document.getElementById("annotations").value=JSON.stringify(raw);
        });
        img.onload=function(){var fit=Math.min(1,(window.innerWidth-40)/img.naturalWidth);zoom=img.naturalWidth<400?2:fit;draw();};
        img.onerror=function(){document.getElementById("status").textContent="The image could not be loaded: "+IMAGE;};
        img.src=IMAGE;status();
        })();
        </script>
        """
    }
}
