import Foundation

/// The verify stage's HIT as an `HTMLQuestion`: a column of crops, each a zoomed window of an
/// image around one point with a crosshair on it, and a yes/no choice, "is there an object at the
/// crosshair?". The crops are windows onto the images the first stage showed (CSS background
/// offsets), so nothing new needs hosting. The points also travel in the page as JSON
/// (`crowdlab-questions`), which the page draws from and a simulated marketplace reads to know
/// what a worker is asked. Answers post as fields `q0`, `q1`, … of `yes` or `no`.
public enum VerifyQuestion {
    /// One point to judge: the image (its URL and size) and the point in pixels from the top left.
    public struct Item: Codable, Sendable, Equatable {
        public var imageURL: String
        public var width: Int
        public var height: Int
        public var col: Double
        public var row: Double
        public init(imageURL: String, width: Int, height: Int, col: Double, row: Double) {
            self.imageURL = imageURL; self.width = width; self.height = height; self.col = col; self.row = row
        }
    }

    /// The answer field of question `k`.
    public static func field(_ k: Int) -> String { "q\(k)" }

    /// Image pixels on each side of the point that a crop shows, and its zoom.
    public static let cropHalfWidth = 24, zoom = 3

    /// The HTMLQuestion XML for `CreateHIT`'s `Question`.
    public static func make(_ items: [Item], instructions: String) -> String {
        """
        <HTMLQuestion xmlns="http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2011-11-11/HTMLQuestion.xsd">
        <HTMLContent><![CDATA[
        \(page(items, instructions: instructions))
        ]]></HTMLContent>
        <FrameHeight>0</FrameHeight>
        </HTMLQuestion>
        """
    }

    /// The points a verify HIT's question asks about, or nil if it is not a verify question.
    public static func items(inQuestion question: String) -> [Item]? {
        guard let start = question.range(of: dataOpening), let end = question.range(of: "</script>", range: start.upperBound..<question.endIndex) else { return nil }
        let json = question[start.upperBound..<end.lowerBound].replacingOccurrences(of: "<\\/", with: "</")
        return try? JSONDecoder().decode([Item].self, from: Data(json.utf8))
    }

    static let dataOpening = #"<script type="application/json" id="crowdlab-questions">"#

    /// The page alone (HTML), as a person doing the HIT sees it.
    public static func page(_ items: [Item], instructions: String) -> String {
        let side = (2 * cropHalfWidth + 1) * zoom
        let rows = items.enumerated().map { k, item -> String in
            let left = (item.col + 0.5) * Double(zoom) - Double(side) / 2, top = (item.row + 0.5) * Double(zoom) - Double(side) / 2
            let style = String(format: "background-image:url('%@');background-size:%dpx %dpx;background-position:%.1fpx %.1fpx",
                               HTMLQuestion.html(item.imageURL), item.width * zoom, item.height * zoom, -left, -top)
            return """
                <div class="q"><div class="crop" style="\(style)"><span class="h"></span><span class="v"></span></div>
                <span class="n">\(k + 1).</span><label><input type="radio" name="\(field(k))" value="yes"> Yes</label><label><input type="radio" name="\(field(k))" value="no"> No</label></div>
                """
        }.joined(separator: "\n")
        let data = (try? JSONEncoder().encode(items)).map { String(decoding: $0, as: UTF8.self) } ?? "[]"
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>Is there an object at the crosshair?</title>
            <style>
            body{font:15px/1.4 system-ui,sans-serif;margin:12px;color:#222}
            #instructions{background:#f4f6fa;border-left:4px solid #4a6fa5;padding:6px 10px;margin:8px 0;max-width:42em}
            .q{display:inline-flex;align-items:center;gap:10px;margin:6px 14px 6px 0;padding:6px;border:1px solid #ddd;border-radius:4px}
            .crop{position:relative;width:\(side)px;height:\(side)px;background-color:#000;background-repeat:no-repeat;image-rendering:pixelated;border:1px solid #888}
            .crop .h,.crop .v{position:absolute;background:#ffcc00}
            .crop .h{left:calc(50% - 18px);top:calc(50% - 1px);width:36px;height:2px;-webkit-mask:linear-gradient(90deg,#000 30%,transparent 30% 70%,#000 70%);mask:linear-gradient(90deg,#000 30%,transparent 30% 70%,#000 70%)}
            .crop .v{top:calc(50% - 18px);left:calc(50% - 1px);height:36px;width:2px;-webkit-mask:linear-gradient(#000 30%,transparent 30% 70%,#000 70%);mask:linear-gradient(#000 30%,transparent 30% 70%,#000 70%)}
            .n{color:#555;min-width:2em;text-align:right}
            label{margin-right:6px;cursor:pointer}
            #status{color:#555;margin-left:8px}
            </style></head><body>
            <div id="instructions"><strong>Instructions.</strong> \(HTMLQuestion.html(instructions)) <em>Each picture is a close-up of part of a microscope image. Answer Yes if an object sits where the yellow lines point, No if there is nothing there or it is only background.</em></div>
            <form id="mturk_form" method="post">
            <input type="hidden" name="assignmentId" id="assignmentId" value="">
            \(rows)
            <p><button type="submit" id="submitButton" disabled>Submit</button><span id="status"></span></p>
            </form>
            \(dataOpening)\(data.replacingOccurrences(of: "</", with: "<\\/"))</script>
            <script>
            (function(){
            "use strict";
            var q=new URLSearchParams(location.search);
            var assignmentId=q.get("assignmentId")||"ASSIGNMENT_ID_NOT_AVAILABLE";
            var preview=assignmentId==="ASSIGNMENT_ID_NOT_AVAILABLE";
            var form=document.getElementById("mturk_form");
            form.action=(q.get("turkSubmitTo")||"https://www.mturk.com").replace(/\\/$/,"")+"/mturk/externalSubmit";
            document.getElementById("assignmentId").value=assignmentId;
            var n=JSON.parse(document.getElementById("crowdlab-questions").textContent).length;
            function status(){
              var done=0;for(var k=0;k<n;k++){if(form.querySelector('input[name="q'+k+'"]:checked'))done++;}
              document.getElementById("submitButton").disabled=preview||done<n;
              document.getElementById("status").textContent=preview?"Preview: accept the HIT to answer.":done+" of "+n+" answered";
            }
            form.addEventListener("change",status);
            form.addEventListener("submit",function(e){if(preview)e.preventDefault();});
            status();
            })();
            </script>
            </body></html>
            """
    }
}
